// Multi-key commands across slots through slotplane-proxy with enable-cross-slot: split per slot,
// sent to the owning nodes, merged in the client's key order; the commands that cannot be split
// keep Redis's CROSSSLOT; with the policy off every cross-slot command gets CROSSSLOT. Split
// parts follow ASK/TRYAGAIN during a slot migration and fail cleanly when a node is lost.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.proxy.extra_args = {"--enable-cross-slot", "yes"};
  return options;
}());

using Command = std::vector<std::string>;

const Reply kCrossSlot = Reply::Error("CROSSSLOT Keys in request don't hash to the same slot");

std::vector<std::string> Keys(const std::string& prefix, int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) keys.push_back(absl::StrCat(prefix, ":", i, "\r\n\xfe"));
  return keys;
}

Command With(Command command, const std::vector<std::string>& args) {
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

class ProxyCrossSlotTest : public SharedClusterTest {
 protected:
  std::unique_ptr<TestClient> Client() {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect();
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // Expects the keys to cover every master.
  void ExpectAllShards(const std::vector<std::string>& keys) {
    ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
    ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
    std::set<int> used;
    for (const std::string& key : keys) used.insert(owners[KeyHashSlot(key)]);
    ASSERT_EQ(used.size(), masters.size());
  }
};

TEST_F(ProxyCrossSlotTest, MgetOfThousandKeysEqualsPerKeyGets) {
  const std::vector<std::string> keys = Keys("xs-mget", 1000);
  ExpectAllShards(keys);
  std::unique_ptr<TestClient> client = Client();
  ASSERT_NE(client, nullptr);
  std::vector<Command> sets;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i % 7 == 3) continue;  // some keys stay missing: nil in the merged array
    sets.push_back({"SET", keys[i], RandomBytes(i % 50, i)});
  }
  for (const Reply& reply : client->Pipeline(sets)) ASSERT_EQ(reply, Reply::Status("OK"));

  // Duplicates and a hash-tagged group that shares one slot, in a scrambled order.
  std::vector<std::string> asked = keys;
  asked.push_back(keys[10]);
  asked.push_back(keys[10]);
  for (int i = 0; i < 5; ++i) asked.push_back(absl::StrCat("{xs-tag}", i));
  std::vector<Command> gets;
  for (const std::string& key : asked) gets.push_back({"GET", key});
  const std::vector<Reply> expected = client->Pipeline(gets);

  const Reply merged = client->Command(With({"MGET"}, asked));
  ASSERT_EQ(merged.type, Reply::Type::kArray) << merged;
  ASSERT_EQ(merged.elements.size(), asked.size());
  for (size_t i = 0, reported = 0; i < asked.size() && reported < 5; ++i) {
    if (merged.elements[i] == expected[i]) continue;
    ADD_FAILURE() << "key " << i << ": MGET gave " << merged.elements[i] << ", GET gave "
                  << expected[i];
    ++reported;
  }
}

TEST_F(ProxyCrossSlotTest, MsetWritesEveryShard) {
  const std::vector<std::string> keys = Keys("xs-mset", 300);
  ExpectAllShards(keys);
  Command mset{"MSET"};
  for (size_t i = 0; i < keys.size(); ++i) {
    mset.push_back(keys[i]);
    mset.push_back(absl::StrCat("v", i));
  }
  mset.push_back(keys[0]);  // the last value of a repeated key wins, as in Redis
  mset.push_back("last");
  std::unique_ptr<TestClient> client = Client();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command(mset), Reply::Status("OK"));
  std::vector<Command> gets;
  for (const std::string& key : keys) gets.push_back({"GET", key});
  ASSERT_OK_AND_ASSIGN(const std::vector<Reply> direct, cluster().PipelineOnOwners(gets));
  EXPECT_EQ(direct[0], Reply::String("last"));
  for (size_t i = 1; i < keys.size(); ++i) {
    ASSERT_EQ(direct[i], Reply::String(absl::StrCat("v", i))) << i;
  }
  EXPECT_EQ(client->Command({"MSET", keys[1], "x", keys[2]}),
            Reply::Error("ERR wrong number of arguments for 'mset' command"));
}

TEST_F(ProxyCrossSlotTest, CountingCommandsSum) {
  const std::vector<std::string> keys = Keys("xs-count", 60);
  ExpectAllShards(keys);
  std::unique_ptr<TestClient> client = Client();
  ASSERT_NE(client, nullptr);
  Command mset{"MSET"};
  for (const std::string& key : keys) {
    mset.push_back(key);
    mset.push_back("1");
  }
  ASSERT_EQ(client->Command(mset), Reply::Status("OK"));
  std::vector<std::string> with_missing = keys;
  with_missing.push_back("xs-count:missing");
  with_missing.push_back(keys[5]);  // EXISTS counts a repeated key twice
  EXPECT_EQ(client->Command(With({"EXISTS"}, with_missing)), Reply::Integer(61));
  EXPECT_EQ(client->Command(With({"TOUCH"}, with_missing)), Reply::Integer(61));
  const std::vector<std::string> first(keys.begin(), keys.begin() + 30);
  const std::vector<std::string> second(keys.begin() + 30, keys.end());
  EXPECT_EQ(client->Command(With({"DEL"}, With(first, {"xs-count:missing", keys[0]}))),
            Reply::Integer(30));
  EXPECT_EQ(client->Command(With({"UNLINK"}, keys)), Reply::Integer(30));
  EXPECT_EQ(client->Command(With({"EXISTS"}, keys)), Reply::Integer(0));
}

TEST_F(ProxyCrossSlotTest, CommandsThatCannotBeSplitKeepCrossSlot) {
  const std::string a = KeyInSlot(0, "xs-no"), b = KeyInSlot(kSlotCount - 1, "xs-no");
  std::unique_ptr<TestClient> client = Client();
  ASSERT_NE(client, nullptr);
  for (const Command& argv : std::vector<Command>{{"MSETNX", a, "1", b, "2"},
                                                  {"RENAME", a, b},
                                                  {"SUNIONSTORE", a, b},
                                                  {"LMOVE", a, b, "LEFT", "RIGHT"},
                                                  {"BITOP", "AND", a, b},
                                                  {"PFCOUNT", a, b},
                                                  {"EVAL", "return 1", "2", a, b}}) {
    EXPECT_EQ(client->Command(argv), kCrossSlot) << argv[0];
  }
  EXPECT_EQ(client->Command({"GET", a}), Reply::Nil());
  const Reply listed = client->Command({"PROXY", "COMMAND", "CROSSSLOTS-UNSUPPORTED"});
  ASSERT_EQ(listed.type, Reply::Type::kArray) << listed;
  std::set<std::string> names;
  for (const Reply& row : listed.elements) {
    ASSERT_EQ(row.elements.size(), 6u);
    names.insert(row.elements[0].str);
  }
  for (const char* name : {"msetnx", "rename", "sunionstore", "eval", "bitop"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  for (const char* name : {"mget", "mset", "del", "unlink", "exists", "touch", "get"}) {
    EXPECT_EQ(names.count(name), 0u) << name;
  }
}

TEST_F(ProxyCrossSlotTest, PolicyOffGivesCrossSlot) {
  ProxyOptions options;
  options.seeds = cluster().addresses();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> strict, ProxyProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, strict->Connect());
  const std::string a = KeyInSlot(1, "xs-off"), b = KeyInSlot(16000, "xs-off");
  for (const Command& argv : std::vector<Command>{{"MGET", a, b},
                                                  {"MSET", a, "1", b, "2"},
                                                  {"DEL", a, b},
                                                  {"UNLINK", a, b},
                                                  {"EXISTS", a, b},
                                                  {"TOUCH", a, b}}) {
    EXPECT_EQ(client->Command(argv), kCrossSlot) << argv[0];
  }
  EXPECT_EQ(client->Command({"MGET", "{t}a", "{t}b"}), Reply::Array({Reply::Nil(), Reply::Nil()}));
}

// Split commands in a pipeline keep their place among single-key ones.
TEST_F(ProxyCrossSlotTest, PipelineOrderAcrossSplitCommands) {
  const std::vector<std::string> keys = Keys("xs-pipe", 40);
  std::unique_ptr<TestClient> client = Client();
  ASSERT_NE(client, nullptr);
  std::vector<Command> commands;
  std::vector<Reply> expected;
  for (int round = 0; round < 200; ++round) {
    const std::string& k1 = keys[round % keys.size()];
    const std::string& k2 = keys[(round * 7 + 3) % keys.size()];
    const std::string v = absl::StrCat("r", round);
    commands.push_back({"MSET", k1, v, k2, v});
    expected.push_back(Reply::Status("OK"));
    commands.push_back({"GET", k1});
    expected.push_back(Reply::String(v));
    commands.push_back({"MGET", k2, k1, "xs-pipe:none"});
    expected.push_back(Reply::Array({Reply::String(v), Reply::String(v), Reply::Nil()}));
    commands.push_back({"EXISTS", k1, k2, "xs-pipe:none"});
    expected.push_back(Reply::Integer(2));
  }
  const std::vector<Reply> replies = client->Pipeline(commands);
  ASSERT_EQ(replies.size(), expected.size());
  for (size_t i = 0, reported = 0; i < replies.size() && reported < 5; ++i) {
    if (replies[i] == expected[i]) continue;
    ADD_FAILURE() << "command " << i << " " << commands[i][0] << ": " << replies[i] << ", expected "
                  << expected[i];
    ++reported;
  }
}

// Clients that leave with split commands in flight cost nothing: no crash, no leak visible as a
// stuck proxy, and the next client is served.
TEST_F(ProxyCrossSlotTest, ClientLeavingMidwayIsHarmless) {
  const std::vector<std::string> keys = Keys("xs-leave", 2000);
  const std::string mget = EncodeCommand(With({"MGET"}, keys));
  for (int round = 0; round < 20; ++round) {
    ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(proxy().port()));
    std::string burst;
    for (int i = 0; i < 20; ++i) burst += mget;
    ASSERT_OK(conn.Send(burst));
    conn.Close(/*reset=*/round % 2 == 0);
  }
  std::unique_ptr<TestClient> client = Client();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
  const Reply reply = client->Command(With({"MGET"}, keys));
  ASSERT_EQ(reply.type, Reply::Type::kArray);
  EXPECT_EQ(reply.elements.size(), keys.size());
  EXPECT_TRUE(proxy().IsAlive());
}

// During a slot migration the parts for that slot follow ASK (and TRYAGAIN while keys are split
// between the nodes); after it, MOVED. The merged reply never shows a redirect.
TEST_F(ProxyCrossSlotTest, SplitPartsFollowRedirectsDuringMigration) {
  const uint16_t slot = 4242;
  std::vector<std::string> in_slot;
  for (int i = 0; i < 40; ++i) in_slot.push_back(absl::StrCat(KeyInSlot(slot, "xs-mig"), i));
  // KeyInSlot's hash tag is kept: all share the slot.
  for (const std::string& key : in_slot) ASSERT_EQ(KeyHashSlot(key), slot) << key;
  const std::vector<std::string> others = Keys("xs-mig-other", 30);
  std::vector<std::string> all = in_slot;
  all.insert(all.end(), others.begin(), others.end());
  std::unique_ptr<TestClient> client = Client();
  ASSERT_NE(client, nullptr);
  Command mset{"MSET"};
  for (const std::string& key : all) {
    mset.push_back(key);
    mset.push_back(key + "=v");
  }
  ASSERT_EQ(client->Command(mset), Reply::Status("OK"));
  std::vector<Reply> want;
  for (const std::string& key : all) want.push_back(Reply::String(key + "=v"));

  ASSERT_OK_AND_ASSIGN(const int source, cluster().SlotOwner(slot));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  const int target = masters[0] == source ? masters[1] : masters[0];
  SlotMigration migration(cluster(), slot, source, target);
  ASSERT_OK(migration.Begin());
  ASSERT_OK_AND_ASSIGN(const int moved, migration.MoveKeys(20));  // half the keys moved
  EXPECT_GT(moved, 0);
  // The slot's keys are now on both nodes: its part gets TRYAGAIN and is retried (10 ms, 20 ms,
  // ...) while the migration of the rest completes; then ASK takes it to the target.
  ASSERT_OK_AND_ASSIGN(const int64_t retries_before, proxy().InfoCounter("tryagain_retries"));
  Reply during;
  std::thread reader([&] {
    absl::StatusOr<std::unique_ptr<TestClient>> other = proxy().Connect();
    during = other.ok() ? (*other)->Command(With({"MGET"}, all)) : Reply::TransportError("connect");
  });
  // Finish moving once the proxy is retrying (it retries for 310 ms in all).
  EXPECT_TRUE(
      WaitFor([&] { return proxy().InfoCounter("tryagain_retries").value_or(0) > retries_before; },
              absl::Seconds(5), absl::Milliseconds(2)));
  while (true) {
    absl::StatusOr<int> n = migration.MoveKeys(100);
    if (!n.ok() || *n == 0) break;
  }
  reader.join();
  EXPECT_EQ(during, Reply::Array(want));
  // Every key of the slot is on the target, the slot still migrating: ASK for the slot's part.
  ASSERT_OK_AND_ASSIGN(const int64_t asks_before, proxy().InfoCounter("ask_redirects"));
  EXPECT_EQ(client->Command(With({"MGET"}, all)), Reply::Array(want));
  EXPECT_EQ(client->Command(With({"EXISTS"}, all)), Reply::Integer(static_cast<int>(all.size())));
  ASSERT_OK_AND_ASSIGN(const int64_t asks_after, proxy().InfoCounter("ask_redirects"));
  EXPECT_GE(asks_after - asks_before, 2);
  ASSERT_OK_AND_ASSIGN(const int64_t moved_before, proxy().InfoCounter("moved_redirects"));
  ASSERT_OK(migration.Finish());
  // Now MOVED (unless the proxy's topology refresh got there first), then the corrected route.
  EXPECT_EQ(client->Command(With({"MGET"}, all)), Reply::Array(want));
  ASSERT_OK_AND_ASSIGN(const int64_t moved_after, proxy().InfoCounter("moved_redirects"));
  EXPECT_LE(moved_after - moved_before, 1);
  EXPECT_EQ(client->Command(With({"DEL"}, all)), Reply::Integer(static_cast<int>(all.size())));
}

// A lost master fails only the parts sent to it: the reply is an error naming the node, the proxy
// lives on, and once the replica took over the same commands work again.
TEST(ProxyCrossSlotFailureTest, LostNodeFailsCleanlyThenRecovers) {
  RedisClusterOptions cluster_options;
  cluster_options.node_timeout = absl::Milliseconds(1000);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start(cluster_options));
  ProxyOptions options;
  options.seeds = cluster->addresses();
  // Without the failover hold, which would make the parts wait for the replica instead
  // (proxy_hold_test covers that).
  options.extra_args = {"--enable-cross-slot", "yes", "--failover-hold-timeout", "0"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, ProxyProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  const std::vector<std::string> keys = Keys("xs-lost", 200);
  Command mset{"MSET"};
  for (const std::string& key : keys) {
    mset.push_back(key);
    mset.push_back("v");
  }
  ASSERT_EQ(client->Command(mset), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster->Masters());
  const int victim = masters[1];
  ASSERT_OK(cluster->WaitForReplicasInSync(victim));
  ASSERT_OK(cluster->KillNode(victim));

  const std::string address = cluster->address(victim).ToString();
  for (const Command& argv : {With({"MGET"}, keys), With({"EXISTS"}, keys), Command{"DBSIZE"}}) {
    const Reply reply = client->Command(argv);
    ASSERT_EQ(reply.type, Reply::Type::kError) << argv[0] << ": " << reply;
    EXPECT_NE(reply.str.find(address), std::string::npos) << reply;
    EXPECT_EQ(reply.str.rfind("ERR slotplane: ", 0), 0u) << reply;
  }
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));

  uint16_t victim_slot = 0;
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster->SlotOwners());
  while (owners[victim_slot] != victim) ++victim_slot;
  ASSERT_OK(cluster->WaitForFailover(victim_slot, victim));
  std::vector<Reply> want(keys.size(), Reply::String("v"));
  ASSERT_TRUE(WaitFor([&] { return client->Command(With({"MGET"}, keys)) == Reply::Array(want); },
                      absl::Seconds(30), absl::Milliseconds(200)))
      << client->Command(With({"MGET"}, keys));
  EXPECT_EQ(client->Command({"DBSIZE"}), Reply::Integer(static_cast<int>(keys.size())));
  EXPECT_TRUE(proxy->IsAlive());
}

}  // namespace
}  // namespace slotplane::integration
