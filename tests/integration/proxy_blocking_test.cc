// Blocking commands through the proxy: each one runs on a private connection to its key's master,
// never stalls the shared connections (a GET during a 2-second BRPOPLPUSH answers at once), keeps
// the client's order, gives its connection up when the client disconnects mid-block, and leaves
// the client on shared connections afterwards. Also WAIT and PROXY MULTIPLEXING OFF.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

constexpr absl::Duration kBlockedWait = absl::Seconds(10);

Reply Ok() { return Reply::Status("OK"); }
Reply Str(const std::string& s) { return Reply::String(s); }
Reply Arr(std::vector<Reply> elements) { return Reply::Array(std::move(elements)); }

class ProxyBlockingTest : public SharedClusterTest {
 protected:
  std::unique_ptr<TestClient> Proxy() {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect();
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // blocked_clients of the master that owns `key`.
  int64_t BlockedOnOwner(const std::string& key) {
    absl::StatusOr<int> owner = cluster().SlotOwner(KeyHashSlot(key));
    if (!owner.ok()) return -1;
    absl::StatusOr<std::unique_ptr<TestClient>> node = cluster().Connect(*owner);
    if (!node.ok()) return -1;
    Reply info = (*node)->Command({"INFO", "clients"});
    auto fields = ParseInfoText(info.str);
    auto it = fields.find("blocked_clients");
    return it == fields.end() ? -1 : std::stoll(it->second);
  }

  // Runs `blocking` on its own client in a thread, waits until the node has it blocked, runs
  // `unblock` on another client and returns the blocked client's reply.
  Reply BlockThenServe(const Command& blocking, const Command& unblock) {
    auto blocked = Proxy();
    auto writer = Proxy();
    if (blocked == nullptr || writer == nullptr) return Reply::TransportError("no client");
    const std::string key = unblock[1];  // in the blocked command's slot
    const int64_t before = BlockedOnOwner(key);
    Reply reply;
    std::thread thread([&] { reply = blocked->Command(blocking); });
    const bool is_blocked = WaitFor([&] { return BlockedOnOwner(key) > before; }, kBlockedWait);
    EXPECT_TRUE(is_blocked) << blocking[0] << " never blocked on the node";
    writer->Command(unblock);
    thread.join();
    return reply;
  }
};

TEST_F(ProxyBlockingTest, EachBlockingCommandIsServedByALaterWrite) {
  auto setup = Proxy();
  ASSERT_NE(setup, nullptr);
  EXPECT_EQ(setup->Command({"XGROUP", "CREATE", "{blk}:s2", "g", "$", "MKSTREAM"}), Ok());

  EXPECT_EQ(BlockThenServe({"BLPOP", "{blk}:l1", "0"}, {"RPUSH", "{blk}:l1", "a"}),
            Arr({Str("{blk}:l1"), Str("a")}));
  EXPECT_EQ(BlockThenServe({"BRPOP", "{blk}:l2", "0"}, {"RPUSH", "{blk}:l2", "a", "b"}),
            Arr({Str("{blk}:l2"), Str("b")}));
  EXPECT_EQ(BlockThenServe({"BRPOPLPUSH", "{blk}:l3", "{blk}:d3", "0"}, {"RPUSH", "{blk}:l3", "x"}),
            Str("x"));
  EXPECT_EQ(BlockThenServe({"BLMOVE", "{blk}:l4", "{blk}:d4", "LEFT", "RIGHT", "0"},
                           {"RPUSH", "{blk}:l4", "y"}),
            Str("y"));
  EXPECT_EQ(BlockThenServe({"BLMPOP", "0", "1", "{blk}:l5", "LEFT"}, {"RPUSH", "{blk}:l5", "z"}),
            Arr({Str("{blk}:l5"), Arr({Str("z")})}));
  EXPECT_EQ(BlockThenServe({"BZPOPMIN", "{blk}:z1", "0"}, {"ZADD", "{blk}:z1", "1", "m"}),
            Arr({Str("{blk}:z1"), Str("m"), Str("1")}));
  EXPECT_EQ(BlockThenServe({"BZPOPMAX", "{blk}:z2", "0"}, {"ZADD", "{blk}:z2", "2", "n"}),
            Arr({Str("{blk}:z2"), Str("n"), Str("2")}));
  EXPECT_EQ(BlockThenServe({"BZMPOP", "0", "1", "{blk}:z3", "MIN"}, {"ZADD", "{blk}:z3", "3", "o"}),
            Arr({Str("{blk}:z3"), Arr({Arr({Str("o"), Str("3")})})}));
  EXPECT_EQ(BlockThenServe({"XREAD", "BLOCK", "0", "STREAMS", "{blk}:s1", "$"},
                           {"XADD", "{blk}:s1", "1-1", "f", "v"}),
            Arr({Arr({Str("{blk}:s1"), Arr({Arr({Str("1-1"), Arr({Str("f"), Str("v")})})})})}));
  EXPECT_EQ(
      BlockThenServe({"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "{blk}:s2", ">"},
                     {"XADD", "{blk}:s2", "1-1", "f", "v"}),
      Arr({Arr({Str("{blk}:s2"), Arr({Arr({Str("1-1"), Arr({Str("f"), Str("v")})})})})}));
}

TEST_F(ProxyBlockingTest, TimeoutsAnswerNil) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  const absl::Time start = absl::Now();
  EXPECT_EQ(client->Command({"BLPOP", "{blk-timeout}:none", "0.3"}), Reply::Nil());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_EQ(client->Command({"BZPOPMIN", "{blk-timeout}:none", "0.1"}), Reply::Nil());
  EXPECT_EQ(client->Command({"XREAD", "BLOCK", "100", "STREAMS", "{blk-timeout}:s", "$"}),
            Reply::Nil());
}

TEST_F(ProxyBlockingTest, GetAnswersAtOnceDuringATwoSecondBrpoplpush) {
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
  // Keys on every master, the blocked one's included.
  std::vector<std::string> keys;
  std::map<int, bool> seen;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    if (owners[slot] >= 0 && !seen[owners[slot]]) {
      seen[owners[slot]] = true;
      keys.push_back(KeyInSlot(slot, "stall"));
    }
  }
  auto reader = Proxy();
  ASSERT_NE(reader, nullptr);
  for (const std::string& key : keys) EXPECT_EQ(reader->Command({"SET", key, "v"}), Ok());

  auto blocked = Proxy();
  ASSERT_NE(blocked, nullptr);
  const std::string source = KeyInSlot(KeyHashSlot(keys[0]), "stall-src");
  const std::string dest = KeyInSlot(KeyHashSlot(keys[0]), "stall-dst");
  Reply block_reply;
  absl::Duration block_time;
  std::thread thread([&] {
    const absl::Time start = absl::Now();
    block_reply = blocked->Command({"BRPOPLPUSH", source, dest, "2"});
    block_time = absl::Now() - start;
  });
  ASSERT_TRUE(WaitFor([&] { return BlockedOnOwner(source) >= 1; }, kBlockedWait));
  for (int round = 0; round < 20; ++round) {
    for (const std::string& key : keys) {
      const absl::Time start = absl::Now();
      EXPECT_EQ(reader->Command({"GET", key}), Str("v"));
      EXPECT_LT(absl::Now() - start, absl::Milliseconds(500)) << "GET " << key << " stalled";
    }
  }
  thread.join();
  EXPECT_EQ(block_reply, Reply::Nil());
  EXPECT_GE(block_time, absl::Milliseconds(1900));
}

TEST_F(ProxyBlockingTest, ClientDisconnectingMidBlockGivesUpItsConnection) {
  const std::string key = "{blk-gone}:q";
  ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(proxy().port()));
  ASSERT_OK(conn.Send(EncodeCommand({"BLPOP", key, "0"})));
  ASSERT_TRUE(WaitFor([&] { return BlockedOnOwner(key) == 1; }, kBlockedWait));
  conn.Close();
  // The proxy closes the private connection: the node no longer has a blocked client...
  EXPECT_TRUE(WaitFor([&] { return BlockedOnOwner(key) == 0; }, kBlockedWait));
  // ...so nothing consumes the element pushed next.
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"RPUSH", key, "x"}), Reply::Integer(1));
  EXPECT_EQ(client->Command({"LLEN", key}), Reply::Integer(1));
}

TEST_F(ProxyBlockingTest, ClientReturnsToSharedConnectionsAndPrivateOnesAreReused) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  const std::string key = "{blk-reuse}:q";
  ASSERT_OK_AND_ASSIGN(const int64_t before, proxy().InfoCounter("private_connects"));
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(client->Command({"RPUSH", key, "v"}), Reply::Integer(1));
    EXPECT_EQ(client->Command({"BLPOP", key, "1"}), Arr({Str(key), Str("v")}));
    EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("on"));
  }
  ASSERT_OK_AND_ASSIGN(const int64_t after, proxy().InfoCounter("private_connects"));
  EXPECT_LE(after - before, 2);
}

TEST_F(ProxyBlockingTest, PipelinedCommandsKeepTheirOrderAroundABlockingOne) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  const std::string q = "{blk-order}:q", d = "{blk-order}:d", k = "{blk-order}:k";
  for (int round = 0; round < 20; ++round) {
    std::vector<Reply> replies = client->Pipeline({{"DEL", q, d},
                                                   {"RPUSH", q, "a"},
                                                   {"BRPOPLPUSH", q, d, "1"},
                                                   {"LRANGE", d, "0", "-1"},
                                                   {"BLPOP", q, "0.1"},
                                                   {"SET", k, "v"},
                                                   {"GET", k}});
    ASSERT_EQ(replies.size(), 7u);
    EXPECT_EQ(replies[2], Str("a")) << "round " << round;
    EXPECT_EQ(replies[3], Arr({Str("a")})) << "round " << round;
    EXPECT_EQ(replies[4], Reply::Nil());
    EXPECT_EQ(replies[5], Ok());
    EXPECT_EQ(replies[6], Str("v"));
  }
}

// CLIENT UNBLOCK of a client blocked through the proxy, from another client (on any worker):
// the node unblocks it, so it gets Redis's own answers (nil for TIMEOUT, -UNBLOCKED for ERROR).
TEST_F(ProxyBlockingTest, ClientUnblockReachesTheBlockedCommand) {
  auto controller = Proxy();
  ASSERT_NE(controller, nullptr);
  EXPECT_EQ(controller->Command({"CLIENT", "UNBLOCK", "abc"}),
            Reply::Error("ERR value is not an integer or out of range"));
  EXPECT_EQ(controller->Command({"CLIENT", "UNBLOCK", "1", "LATER"}),
            Reply::Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
  EXPECT_EQ(
      controller->Command({"CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"}),
      Reply::Error("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT "
                   "HELP."));
  for (const char* reason : {"TIMEOUT", "ERROR"}) {
    auto blocked = Proxy();
    ASSERT_NE(blocked, nullptr);
    const Reply id = blocked->Command({"CLIENT", "ID"});
    ASSERT_EQ(id.type, Reply::Type::kInteger);
    const std::string id_text = std::to_string(id.integer);
    // Not blocked: 0.
    EXPECT_EQ(controller->Command({"CLIENT", "UNBLOCK", id_text, reason}), Reply::Integer(0));
    Reply reply;
    std::thread thread([&] { reply = blocked->Command({"BLPOP", "{blk}:unblock", "0"}); });
    Reply unblock;
    const bool done = WaitFor(
        [&] {
          unblock = controller->Command({"CLIENT", "UNBLOCK", id_text, reason});
          return unblock != Reply::Integer(0);
        },
        kBlockedWait);
    EXPECT_TRUE(done) << "CLIENT UNBLOCK never found the client blocked";
    EXPECT_EQ(unblock, Reply::Integer(1));
    thread.join();
    if (std::string(reason) == "TIMEOUT") {
      EXPECT_EQ(reply, Reply::Nil());
    } else {
      EXPECT_EQ(reply, Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
    }
    // The client goes on, on shared connections.
    EXPECT_EQ(blocked->Command({"RPUSH", "{blk}:unblock", "a"}), Reply::Integer(1));
    EXPECT_EQ(blocked->Command({"BLPOP", "{blk}:unblock", "0"}),
              Arr({Str("{blk}:unblock"), Str("a")}));
    EXPECT_EQ(controller->Command({"CLIENT", "UNBLOCK", id_text}), Reply::Integer(0));
  }
}

TEST_F(ProxyBlockingTest, KeysInTwoSlotsAreRefused) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  const std::string a = KeyInSlot(1, "blk-cross"), b = KeyInSlot(2, "blk-cross");
  const Reply cross = Reply::Error("CROSSSLOT Keys in request don't hash to the same slot");
  EXPECT_EQ(client->Command({"BLPOP", a, b, "1"}), cross);
  EXPECT_EQ(client->Command({"BLMOVE", a, b, "LEFT", "LEFT", "1"}), cross);
  EXPECT_EQ(client->Command({"XREAD", "BLOCK", "10", "STREAMS", a, b, "$", "$"}), cross);
}

TEST_F(ProxyBlockingTest, WaitCountsTheReplicasOfEveryMaster) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"SET", "{wait}:k", "v"}), Ok());
  // One replica per master in the shared cluster.
  EXPECT_EQ(client->Command({"WAIT", "1", "5000"}), Reply::Integer(1));
  const absl::Time start = absl::Now();
  EXPECT_EQ(client->Command({"WAIT", "2", "300"}), Reply::Integer(1));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_TRUE(client->Command({"WAIT", "x", "0"}).IsError());
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("on"));
}

TEST_F(ProxyBlockingTest, MultiplexingOffGivesTheClientConnectionsOfItsOwn) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("on"));
  ASSERT_OK_AND_ASSIGN(const int64_t before, proxy().InfoCounter("private_connects"));
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "OFF"}), Ok());
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("off"));
  std::vector<Command> commands;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = absl::StrCat("mux-off:", i);
    commands.push_back({"SET", key, absl::StrCat(i)});
    commands.push_back({"GET", key});
  }
  std::vector<Reply> replies = client->Pipeline(commands);
  ASSERT_EQ(replies.size(), commands.size());
  for (int i = 0; i < 2000; ++i) {
    EXPECT_EQ(replies[2 * i], Ok());
    EXPECT_EQ(replies[2 * i + 1], Str(absl::StrCat(i)));
  }
  ASSERT_OK_AND_ASSIGN(const int64_t after, proxy().InfoCounter("private_connects"));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  // One connection per master at most (idle pooled ones are reused).
  EXPECT_LE(after - before, static_cast<int64_t>(masters.size()));
  // Transactions and blocking commands still work, and it stays off.
  EXPECT_EQ(client->Pipeline({{"MULTI"}, {"INCR", "{mux}:n"}, {"EXEC"}})[2],
            Arr({Reply::Integer(1)}));
  EXPECT_EQ(client->Command({"BLPOP", "{mux}:none", "0.1"}), Reply::Nil());
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("off"));
}

// A cluster of its own with requirepass: private connections authenticate like shared ones, and
// `disable-multiplexing always` gives every client connections of its own.
TEST(ProxyPrivateConnectionsTest, AuthenticateWithTheBackendCredentials) {
  RedisClusterOptions options;
  options.replicas_per_master = 0;
  options.password = "backend-secret";
  ASSERT_OK_AND_ASSIGN(auto cluster, RedisCluster::Start(options));
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--auth", "backend-secret"},
        std::vector<std::string>{"--auth", "backend-secret", "--disable-multiplexing", "always"}}) {
    ProxyOptions proxy_options;
    proxy_options.seeds = cluster->addresses();
    proxy_options.extra_args = extra;
    ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(proxy_options));
    ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());
    ASSERT_OK_AND_ASSIGN(auto other, proxy->Connect());
    const bool always = extra.size() > 2;
    EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}),
              Reply::Status(always ? "off" : "on"));
    EXPECT_EQ(client->Command({"SET", "{auth}:k", "1"}), Ok());
    EXPECT_EQ(
        client->Pipeline({{"WATCH", "{auth}:k"}, {"MULTI"}, {"INCR", "{auth}:k"}, {"EXEC"}})[3],
        Arr({Reply::Integer(2)}));
    EXPECT_EQ(client->Command({"BLPOP", "{auth}:q", "0.1"}), Reply::Nil());
    EXPECT_EQ(client->Command({"WAIT", "0", "100"}), Reply::Integer(0));
    EXPECT_EQ(client->Command({"SUBSCRIBE", "auth-channel"}),
              Arr({Str("subscribe"), Str("auth-channel"), Reply::Integer(1)}));
    EXPECT_EQ(other->Command({"PUBLISH", "auth-channel", "hi"}), Reply::Integer(1));
    EXPECT_EQ(client->GetReply(), Arr({Str("message"), Str("auth-channel"), Str("hi")}));
    EXPECT_EQ(client->Command({"UNSUBSCRIBE"}),
              Arr({Str("unsubscribe"), Str("auth-channel"), Reply::Integer(0)}));
    EXPECT_EQ(client->Command({"GET", "{auth}:k"}), Str("2"));
    EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}),
              Reply::Status(always ? "off" : "on"));
    ASSERT_OK(proxy->Stop());
  }
}

}  // namespace
}  // namespace slotplane::integration
