// slotplane-proxy's `io-engine`: with each engine (epoll, io_uring) the proxy serves commands
// (single, pipelined, replies larger than a socket buffer read by a slow client, several clients
// at once) and reports the engine that runs in PROXY INFO (`io_engine`, and Redis's
// `multiplexing_api`) and in its start-up log line. `auto` picks io_uring where the kernel allows
// it. io_uring's receive ring: client and backend bytes arrive through it (PROXY INFO's
// io_uring_recv_* counters), an 8 MB pipelined request/reply stream is intact, a client paused
// by backpressure loses none of its pipeline, and a client's EOF and reset are seen.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;  // each test starts its own, with its own engine
  return options;
}());

constexpr absl::Duration kReadTimeout = absl::Seconds(60);

class ProxyIoEngineTest : public SharedClusterTest,
                          public ::testing::WithParamInterface<std::string> {
 protected:
  absl::StatusOr<std::unique_ptr<ProxyProcess>> StartProxy(const std::string& engine) {
    ProxyOptions options;
    options.seeds = cluster().addresses();
    options.threads = 2;
    options.io_engine = engine;
    return ProxyProcess::Start(options);
  }

  // The engine io_uring falls back from: epoll, with a warning in the log.
  static void ExpectEngine(ProxyProcess& proxy, const std::string& asked) {
    ASSERT_OK_AND_ASSIGN(auto info, proxy.Info());
    const std::string running = info["io_engine"];
    EXPECT_EQ(info["multiplexing_api"], running);
    EXPECT_TRUE(absl::StrContains(proxy.LogText(), absl::StrCat("(io engine ", running, ")")))
        << proxy.LogText();
    if (asked == "epoll") {
      EXPECT_EQ(running, "epoll");
    } else if (asked == "io_uring" && running != "io_uring") {
      EXPECT_EQ(running, "epoll");
      EXPECT_TRUE(absl::StrContains(proxy.LogText(), "not usable here")) << proxy.LogText();
    } else {
      EXPECT_TRUE(running == "epoll" || running == "io_uring") << running;
    }
  }
};

TEST_P(ProxyIoEngineTest, ServesCommandsAndReportsTheEngine) {
  const std::string engine = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(engine));
  ExpectEngine(*proxy, engine);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  const std::string prefix = absl::StrCat("engine:", engine, ":");

  // Keys in many slots, so every node and both directions of each backend connection are used.
  for (int i = 0; i < 50; ++i) {
    const std::string key = absl::StrCat(prefix, i);
    ASSERT_EQ(client->Command({"SET", key, absl::StrCat("v", i)}), Reply::Status("OK")) << key;
    EXPECT_EQ(client->Command({"GET", key}), Reply::String(absl::StrCat("v", i))) << key;
  }
  // A pipeline: replies in order.
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 200; ++i) commands.push_back({"GET", absl::StrCat(prefix, i % 50)});
  std::vector<Reply> replies = client->Pipeline(commands);
  ASSERT_EQ(replies.size(), commands.size());
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(replies[i], Reply::String(absl::StrCat("v", i % 50))) << i;
  }
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
}

// Replies far larger than the sockets' buffers: writes come back short (io_uring: the engine
// waits for EPOLLOUT and goes on) while the client reads slowly after sending everything.
TEST_P(ProxyIoEngineTest, LargeRepliesToAClientThatReadsLate) {
  const std::string engine = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(engine));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  const std::string key = absl::StrCat("engine:big:", engine);
  const std::string value(1 << 20, 'x');
  ASSERT_EQ(client->Command({"SET", key, value}), Reply::Status("OK"));

  constexpr int kGets = 24;
  ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy->port()));
  std::string request;
  for (int i = 0; i < kGets; ++i) {
    absl::StrAppend(&request, "*2\r\n$3\r\nGET\r\n$", key.size(), "\r\n", key, "\r\n");
  }
  ASSERT_OK(raw.Send(request));
  ASSERT_OK_AND_ASSIGN(ReadResult read, raw.ReadReplies(kGets, kReadTimeout));
  const std::string one = absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
  ASSERT_EQ(read.data.size(), one.size() * kGets);
  for (int i = 0; i < kGets; ++i) {
    ASSERT_EQ(read.data.compare(one.size() * i, one.size(), one), 0) << "reply " << i;
  }
  EXPECT_EQ(client->Command({"DEL", key}), Reply::Integer(1));
}

TEST_P(ProxyIoEngineTest, ManyClientsAtOnce) {
  const std::string engine = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(engine));
  constexpr int kThreads = 8;
  constexpr int kCommands = 300;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<std::unique_ptr<TestClient>> client = proxy->Connect();
      if (!client.ok()) {
        failures[t] = client.status().ToString();
        return;
      }
      for (int i = 0; i < kCommands && failures[t].empty(); ++i) {
        const std::string key = absl::StrCat("engine:many:", engine, ":", t, ":", i);
        const std::string value = absl::StrCat(t, "-", i);
        Reply set = (*client)->Command({"SET", key, value});
        Reply get = (*client)->Command({"GET", key});
        if (set != Reply::Status("OK") || get != Reply::String(value)) {
          failures[t] = absl::StrCat(key, ": ", set.DebugString(), " / ", get.DebugString());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "client " << t;
}

// Client bytes (a 200 KB SET) and backend bytes (its 200 KB GET reply) arrive through the ring;
// under epoll the counters stay at zero.
TEST_P(ProxyIoEngineTest, ClientAndBackendBytesArriveThroughTheRing) {
  const std::string engine = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(engine));
  ASSERT_OK_AND_ASSIGN(auto info, proxy->Info());
  const bool ring = info["io_engine"] == "io_uring";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  const std::string key = absl::StrCat("engine:ring:", engine);
  const std::string value(200 * 1024, 'r');
  ASSERT_OK_AND_ASSIGN(const int64_t before, proxy->InfoCounter("io_uring_recv_bytes"));
  ASSERT_EQ(client->Command({"SET", key, value}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(const int64_t after_set, proxy->InfoCounter("io_uring_recv_bytes"));
  EXPECT_EQ(client->Command({"GET", key}), Reply::String(value));
  ASSERT_OK_AND_ASSIGN(const int64_t after_get, proxy->InfoCounter("io_uring_recv_bytes"));
  ASSERT_OK_AND_ASSIGN(const int64_t ring_bytes, proxy->InfoCounter("io_uring_recv_ring_bytes"));
  if (ring) {
    EXPECT_EQ(ring_bytes, 2 * (256 * 4096 + 256 * 16));  // two workers
    // From the client (the SET's value) and from the node (the GET's reply; its request is tiny).
    EXPECT_GE(after_set - before, static_cast<int64_t>(value.size()));
    EXPECT_GE(after_get - after_set, static_cast<int64_t>(value.size()));
  } else {
    EXPECT_EQ(ring_bytes, 0);
    EXPECT_EQ(after_get, 0);
  }
  EXPECT_EQ(client->Command({"DEL", key}), Reply::Integer(1));
}

// `io-uring-recv-buffers` sizes each worker's ring; a ring of 16 buffers, far too small for a 1 MB
// value each way, still carries every byte (the sockets fall back to read(2) when it runs dry).
TEST_P(ProxyIoEngineTest, RingSizeOptionSetsTheRing) {
  const std::string engine = GetParam();
  ProxyOptions options;
  options.seeds = cluster().addresses();
  options.threads = 2;
  options.io_engine = engine;
  options.extra_args = {"--io-uring-recv-buffers", "16"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, ProxyProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(auto info, proxy->Info());
  ASSERT_OK_AND_ASSIGN(const int64_t ring_bytes, proxy->InfoCounter("io_uring_recv_ring_bytes"));
  EXPECT_EQ(ring_bytes, info["io_engine"] == "io_uring" ? 2 * (16 * 4096 + 16 * 16) : 0);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  const std::string key = absl::StrCat("engine:small-ring:", engine);
  const std::string value(1024 * 1024, 's');
  ASSERT_EQ(client->Command({"SET", key, value}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"GET", key}), Reply::String(value));
  EXPECT_EQ(client->Command({"DEL", key}), Reply::Integer(1));
}

// 128 SET + GET pairs of 64 KB values sent as one pipeline (8 MB each way) while the replies are
// read: every reply in order, every value intact.
TEST_P(ProxyIoEngineTest, PipelinedEightMegabyteStreamIsIntact) {
  const std::string engine = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(engine));
  constexpr int kPairs = 128;
  std::vector<std::string> values;
  std::string request;
  for (int i = 0; i < kPairs; ++i) {
    std::string value(64 * 1024, '\0');
    for (size_t j = 0; j < value.size(); ++j) value[j] = static_cast<char>('a' + (i + j / 7) % 26);
    const std::string key = absl::StrCat("engine:stream:", engine, ":", i);
    absl::StrAppend(&request, EncodeCommand({"SET", key, value}), EncodeCommand({"GET", key}));
    values.push_back(std::move(value));
  }
  ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy->port()));
  absl::Status sent;
  std::thread sender([&] { sent = raw.Send(request); });
  absl::StatusOr<ReadResult> read = raw.ReadReplies(2 * kPairs, kReadTimeout);
  sender.join();
  ASSERT_OK(sent);
  ASSERT_OK(read.status());
  std::string expected;
  for (int i = 0; i < kPairs; ++i) {
    absl::StrAppend(&expected, "+OK\r\n$", values[i].size(), "\r\n", values[i], "\r\n");
  }
  ASSERT_EQ(read->data.size(), expected.size());
  for (size_t at = 0; at < expected.size(); at += 4096) {
    ASSERT_EQ(read->data.compare(at, 4096, expected, at, 4096), 0) << "bytes from " << at;
  }
}

// 600 GETs of a 16 KB value in one burst, read only once all are sent: the proxy stops reading
// the client at 256 requests in flight (and at 8 MB of replies), with the rest of the burst
// already received (io_uring: held out of the ring); every reply arrives, in order.
TEST_P(ProxyIoEngineTest, ClientPausedByBackpressureLosesNothing) {
  const std::string engine = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(engine));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  const std::string key = absl::StrCat("engine:held:", engine);
  std::string value(16 * 1024, '\0');
  for (size_t j = 0; j < value.size(); ++j) value[j] = static_cast<char>('A' + j % 26);
  ASSERT_EQ(client->Command({"SET", key, value}), Reply::Status("OK"));
  constexpr int kGets = 600;
  std::string request;
  for (int i = 0; i < kGets; ++i) {
    // An ECHO between GETs, so a lost or repeated request shows in the order of the replies.
    absl::StrAppend(&request, EncodeCommand({"GET", key}),
                    EncodeCommand({"ECHO", absl::StrCat(i)}));
  }
  ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy->port()));
  ASSERT_OK(raw.Send(request));
  ASSERT_OK_AND_ASSIGN(ReadResult read, raw.ReadReplies(2 * kGets, kReadTimeout));
  std::string expected;
  const std::string one = absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
  for (int i = 0; i < kGets; ++i) {
    const std::string n = absl::StrCat(i);
    absl::StrAppend(&expected, one, "$", n.size(), "\r\n", n, "\r\n");
  }
  ASSERT_EQ(read.data.size(), expected.size());
  EXPECT_TRUE(read.data == expected) << "a reply is missing, repeated or out of order";
  EXPECT_EQ(client->Command({"DEL", key}), Reply::Integer(1));
}

// A client that sends a command and closes (EOF) has its command carried out and its session
// closed; one that resets mid-command has its session closed; the proxy serves on.
TEST_P(ProxyIoEngineTest, ClientEofAndResetAreSeen) {
  const std::string engine = GetParam();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(engine));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  // The proxy is this test's own: once every closed connection is gone, it counts `client` and
  // the connection asking PROXY INFO. (A count taken as a baseline could include an earlier
  // asker whose close the proxy had not seen yet, and never be reached again.)
  constexpr int64_t kOwnConnections = 2;
  const std::string key = absl::StrCat("engine:eof:", engine);
  {
    ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy->port()));
    ASSERT_OK(raw.Send(EncodeCommand({"SET", key, "before-eof"})));
    raw.Close();
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        return client->Command({"GET", key}) == Reply::String("before-eof");
      },
      absl::Seconds(30)));
  {
    ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy->port()));
    ASSERT_OK(raw.Send("*3\r\n$3\r\nSET\r\n$5\r\nreset\r\n$10\r\nhalf"));
    raw.Close(/*reset=*/true);
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<int64_t> connected = proxy->InfoCounter("connected_clients");
        return connected.ok() && *connected == kOwnConnections;
      },
      absl::Seconds(30)));
  EXPECT_EQ(client->Command({"EXISTS", "reset"}), Reply::Integer(0));
  EXPECT_EQ(client->Command({"DEL", key}), Reply::Integer(1));
}

INSTANTIATE_TEST_SUITE_P(Engines, ProxyIoEngineTest, ::testing::Values("epoll", "io_uring", "auto"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace slotplane::integration
