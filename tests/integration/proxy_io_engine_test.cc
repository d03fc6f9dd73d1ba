// slotplane-proxy's `io-engine`: with each engine (epoll, io_uring) the proxy serves commands
// (single, pipelined, replies larger than a socket buffer read by a slow client, several clients
// at once) and reports the engine that runs in PROXY INFO (`io_engine`, and Redis's
// `multiplexing_api`) and in its start-up log line. `auto` picks io_uring where the kernel allows
// it.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/shared_cluster.h"

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

INSTANTIATE_TEST_SUITE_P(Engines, ProxyIoEngineTest, ::testing::Values("epoll", "io_uring", "auto"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace slotplane::integration
