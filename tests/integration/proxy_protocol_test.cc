// RESP edge cases over raw sockets: malformed requests get Redis's own protocol error and a
// closed connection, inline and byte-by-byte requests work, and none of it disturbs other
// clients of the same proxy.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/traffic.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

constexpr absl::Duration kReadTimeout = absl::Seconds(10);

// What a server sends back for `bytes` on a fresh connection, and whether it closed it.
struct Exchange {
  std::string reply;
  bool closed = false;

  bool operator==(const Exchange& other) const {
    return reply == other.reply && closed == other.closed;
  }
};

std::ostream& operator<<(std::ostream& os, const Exchange& e) {
  return os << Reply::String(e.reply) << (e.closed ? " then closed" : " (still open)");
}

// Sends `bytes` to 127.0.0.1:port and reads until the server closes the connection or has sent
// `replies` complete replies; in the second case checks that the connection still works.
absl::StatusOr<Exchange> Send(uint16_t port, const std::string& bytes, size_t replies) {
  absl::StatusOr<RawConnection> conn = RawConnection::Connect(port);
  if (!conn.ok()) return conn.status();
  // The server may close as soon as it has seen enough to reject the request, before the rest
  // is sent: the outcome is judged by what comes back, not by the send.
  conn->Send(bytes).IgnoreError();
  absl::StatusOr<ReadResult> read = conn->ReadReplies(replies, kReadTimeout);
  if (!read.ok()) return read.status();
  Exchange exchange{read->data, read->closed};
  if (!exchange.closed) {
    // A closing server may still be on its way to close: wait for the close or a PONG.
    IT_RETURN_IF_ERROR(conn->Send(EncodeCommand({"PING"})));
    absl::StatusOr<ReadResult> ping = conn->ReadReplies(1, kReadTimeout);
    if (!ping.ok()) return ping.status();
    exchange.closed = ping->closed;
    if (ping->data != "+PONG\r\n") exchange.reply += ping->data;
  }
  return exchange;
}

class ProxyProtocolTest : public SharedClusterTest {
 protected:
  // Every test runs while another client pipelines through the same proxy; that client must see
  // only correct replies, and the proxy must be the same process at the end.
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    pid_ = proxy().pid();
    TrafficOptions options;
    options.port = proxy().port();
    const std::string prefix = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (int i = 0; i < 200; ++i) options.keys.push_back(absl::StrCat(prefix, ":bystander:", i));
    bystander_ = std::make_unique<BackgroundTraffic>(options);
    ASSERT_TRUE(bystander_->WaitForRounds(1)) << "no traffic through the proxy";
  }

  void TearDown() override {
    if (bystander_ != nullptr) {
      EXPECT_TRUE(bystander_->WaitForRounds(2)) << "the other client's traffic stalled";
      bystander_->Stop();
      EXPECT_EQ(bystander_->failures(), 0);
      for (const std::string& failure : bystander_->FailureSamples()) {
        ADD_FAILURE() << "other client: " << failure;
      }
    }
    if (pid_ != 0) {
      EXPECT_TRUE(proxy().IsAlive());
      EXPECT_EQ(proxy().pid(), pid_);
    }
    SharedClusterTest::TearDown();
  }

  // Expects the proxy to answer `bytes` exactly as a master node does.
  void ExpectSameAsNode(const std::string& bytes, size_t replies, int node) {
    ASSERT_OK_AND_ASSIGN(const Exchange from_node, Send(cluster().port(node), bytes, replies));
    ASSERT_OK_AND_ASSIGN(const Exchange from_proxy, Send(proxy().port(), bytes, replies));
    EXPECT_EQ(from_proxy, from_node) << "request " << Reply::String(bytes);
    bystander_->WaitForRounds(1);  // interleave with the other client's traffic
  }

  int FirstMaster() {
    absl::StatusOr<std::vector<int>> masters = cluster().Masters();
    EXPECT_TRUE(masters.ok()) << masters.status();
    return masters.ok() ? masters->front() : 0;
  }

  std::unique_ptr<BackgroundTraffic> bystander_;
  pid_t pid_ = 0;
};

TEST_F(ProxyProtocolTest, MalformedRequestsGetRedisProtocolErrorAndClose) {
  const int node = FirstMaster();
  const std::vector<std::string> malformed = {
      "*1\r\n$x\r\n",                      // invalid bulk length
      "*abc\r\n",                          // invalid multibulk length
      "*1\r\n:5\r\n",                      // expected '$', got ':'
      "*2\r\n$3\r\nGET\r\n*1\r\n",         // expected '$', got '*'
      "*1\r\n$9999999999\r\n",             // bulk length over proto-max-bulk-len
      "*1\r\n$-5\r\n",                     // negative bulk length
      "*9999999999\r\n",                   // multibulk count over INT_MAX
      "*2147483648\r\n",                   // multibulk count just over INT_MAX
      "SET k \"a b\r\n",                   // unbalanced quotes in an inline command
      std::string(70000, 'a'),             // inline request over 64 KB without a newline
      "*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n",  // a good request, then a bad one
  };
  for (const std::string& bytes : malformed) {
    ASSERT_NO_FATAL_FAILURE(ExpectSameAsNode(bytes, /*replies=*/3, node));
  }
  // The brief's wording, spelled out once: an error line starting with "-ERR Protocol error: ".
  ASSERT_OK_AND_ASSIGN(const Exchange e, Send(proxy().port(), "*1\r\n$x\r\n", 3));
  EXPECT_EQ(e, (Exchange{"-ERR Protocol error: invalid bulk length\r\n", true}));
}

// Replies already owed to the client leave before the protocol error, in order.
TEST_F(ProxyProtocolTest, PendingReplyPrecedesProtocolError) {
  const int node = FirstMaster();
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
  std::string key;
  for (int slot = 0; slot < kSlotCount && key.empty(); ++slot) {
    if (owners[slot] == node) key = KeyInSlot(slot, "pending");
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
  ASSERT_EQ(client->Command({"SET", key, "value"}), Reply::Status("OK"));
  ExpectSameAsNode(EncodeCommand({"GET", key}) + "*1\r\n$x\r\n", /*replies=*/3, node);
}

// Requests Redis accepts although they look odd: a '$' where '*' is expected is an inline
// command; empty and null multibulks and empty lines are skipped.
TEST_F(ProxyProtocolTest, OddButValidRequestsLikeRedis) {
  const int node = FirstMaster();
  ExpectSameAsNode("$3\r\nfoo\r\n", /*replies=*/2, node);
  ExpectSameAsNode("*0\r\n*-1\r\n\r\nPING\r\n", /*replies=*/1, node);
  ExpectSameAsNode("ECHO \"a\\x41\\tb\" \r\n", /*replies=*/1, node);
}

TEST_F(ProxyProtocolTest, InlineCommands) {
  const std::string key = KeyInSlot(1234, "inline");
  ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(proxy().port()));
  const std::vector<std::pair<std::string, std::string>> steps = {
      {"PING\r\n", "+PONG\r\n"},
      {absl::StrCat("SET ", key, " \"a b\"\r\n"), "+OK\r\n"},
      {absl::StrCat("GET ", key, "\r\n"), "$3\r\na b\r\n"},
      {absl::StrCat("GET ", key, "\n"), "$3\r\na b\r\n"},  // a bare LF ends a line too
  };
  for (const auto& [request, expected] : steps) {
    ASSERT_OK(conn.Send(request));
    ASSERT_OK_AND_ASSIGN(const ReadResult read, conn.ReadReplies(1, kReadTimeout));
    EXPECT_EQ(read.data, expected) << "request " << Reply::String(request);
  }
}

TEST_F(ProxyProtocolTest, RequestSplitIntoSingleBytes) {
  const std::string key = KeyInSlot(4321, "bytes");
  const std::string value = std::string("x\r\n\0y", 5) + std::string(300, 'v');
  const std::string request = EncodeCommand({"SET", key, value}) + EncodeCommand({"GET", key}) +
                              "PING\r\n" + EncodeCommand({"ECHO", "done"});
  ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(proxy().port()));
  for (char byte : request) ASSERT_OK(conn.Send(std::string(1, byte)));
  ASSERT_OK_AND_ASSIGN(const ReadResult read, conn.ReadReplies(4, kReadTimeout));
  EXPECT_EQ(read.data,
            absl::StrCat("+OK\r\n$", value.size(), "\r\n", value, "\r\n+PONG\r\n$4\r\ndone\r\n"));
}

// Clients that vanish with many requests in flight, by FIN and by RST, across every shard and
// with large values still being written: the proxy drops their replies and serves the others.
TEST_F(ProxyProtocolTest, ClientVanishesWithRequestsInFlight) {
  constexpr int kClients = 10;
  constexpr int kRequests = 1000;
  for (int c = 0; c < kClients; ++c) {
    std::string burst;
    for (int i = 0; i < kRequests; ++i) {
      const std::string key = absl::StrCat("inflight:", c, ":", i);
      burst += i % 2 == 0
                   ? EncodeCommand({"SET", key, std::string(i % 100 == 0 ? 100000 : 10, 'z')})
                   : EncodeCommand({"GET", key});
    }
    ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(proxy().port()));
    ASSERT_OK(conn.Send(burst));
    conn.Close(/*reset=*/c % 2 == 1);
    ASSERT_TRUE(bystander_->WaitForRounds(1)) << "the other client stalled after client " << c;
  }
  // New clients are served normally.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
  EXPECT_EQ(client->Command({"SET", "inflight:after", "ok"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"GET", "inflight:after"}), Reply::String("ok"));
}

}  // namespace
}  // namespace slotplane::integration
