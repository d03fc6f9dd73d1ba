// Routing through slotplane-proxy in front of a real cluster: data lands on the owning node,
// replies keep request order, and errors read exactly like Redis's own.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

constexpr int kKeyCount = 10000;
constexpr size_t kBatch = 500;               // commands per pipeline in bulk loads
constexpr size_t kLargeValue = 1024 * 1024;  // ~1 MB values, a few of them
constexpr int kLargeValueEvery = 2000;

using Command = std::vector<std::string>;

// Binary-safe values: every byte value appears, CR/LF and NUL included; every kLargeValueEvery-th
// is ~1 MB.
std::string ValueFor(int i, uint64_t seed) {
  const size_t size = i % kLargeValueEvery == 0 ? kLargeValue + i : static_cast<size_t>(i % 97);
  return RandomBytes(size, seed * 1000003 + i);
}

// Keys that spread over all slots, with a per-test prefix so that tests never share keys.
std::vector<std::string> Keys(const std::string& prefix, int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) keys.push_back(absl::StrCat(prefix, ":", i, "\xff\r\n"));
  return keys;
}

class ProxyRoutingTest : public SharedClusterTest {
 protected:
  std::unique_ptr<TestClient> ConnectProxy() {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect();
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // Runs `commands` through the proxy in pipelines of kBatch.
  std::vector<Reply> PipelineThroughProxy(const std::vector<Command>& commands) {
    std::unique_ptr<TestClient> client = ConnectProxy();
    std::vector<Reply> replies;
    if (client == nullptr) return replies;
    for (size_t start = 0; start < commands.size(); start += kBatch) {
      const size_t end = std::min(commands.size(), start + kBatch);
      std::vector<Reply> part =
          client->Pipeline(std::vector<Command>(commands.begin() + start, commands.begin() + end));
      replies.insert(replies.end(), part.begin(), part.end());
    }
    return replies;
  }

  // The reply of a node to `argv`: of the owner of argv[1] with `keyed`, else of node 0.
  Reply NodeReply(const Command& argv, bool keyed) {
    int node = 0;
    if (keyed) {
      absl::StatusOr<int> owner = cluster().SlotOwner(KeyHashSlot(argv[1]));
      EXPECT_TRUE(owner.ok()) << owner.status();
      node = owner.value_or(0);
    }
    absl::StatusOr<std::unique_ptr<TestClient>> client = cluster().Connect(node);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? (*client)->Command(argv) : Reply::TransportError("no node");
  }

  // Expects the proxy to answer `argv` exactly like a cluster node does.
  void ExpectSameReplyAsNode(const Command& argv, bool keyed = false) {
    std::unique_ptr<TestClient> client = ConnectProxy();
    ASSERT_NE(client, nullptr);
    const Reply expected = NodeReply(argv, keyed);
    EXPECT_EQ(client->Command(argv), expected) << "for " << Reply::String(argv[0]);
  }

  // Expects every reply to be `want`, reporting at most a few mismatches.
  static void ExpectAll(const std::vector<Reply>& replies, const Reply& want, size_t count) {
    ASSERT_EQ(replies.size(), count);
    int reported = 0;
    for (size_t i = 0; i < replies.size() && reported < 5; ++i) {
      if (replies[i] != want) {
        ADD_FAILURE() << "reply " << i << ": " << replies[i] << ", expected " << want;
        ++reported;
      }
    }
  }
};

TEST_F(ProxyRoutingTest, WritesThroughProxyLandOnOwningNodes) {
  const std::vector<std::string> keys = Keys("route-in", kKeyCount);
  std::vector<Command> sets, gets;
  std::set<int> owners_used;
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
  for (int i = 0; i < kKeyCount; ++i) {
    sets.push_back({"SET", keys[i], ValueFor(i, 1)});
    gets.push_back({"GET", keys[i]});
    owners_used.insert(owners[KeyHashSlot(keys[i])]);
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  ASSERT_EQ(owners_used.size(), masters.size()) << "the keys must cover every shard";

  ExpectAll(PipelineThroughProxy(sets), Reply::Status("OK"), sets.size());
  ASSERT_OK_AND_ASSIGN(const std::vector<Reply> direct, cluster().PipelineOnOwners(gets));
  for (int i = 0, reported = 0; i < kKeyCount && reported < 5; ++i) {
    if (direct[i] == Reply::String(ValueFor(i, 1))) continue;
    ADD_FAILURE() << "key " << i << " read from its owner: " << direct[i];
    ++reported;
  }
}

TEST_F(ProxyRoutingTest, WritesToNodesReadThroughProxy) {
  const std::vector<std::string> keys = Keys("route-out", kKeyCount);
  std::vector<Command> sets, gets;
  for (int i = 0; i < kKeyCount; ++i) {
    sets.push_back({"SET", keys[i], ValueFor(i, 2)});
    gets.push_back({"GET", keys[i]});
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<Reply> direct, cluster().PipelineOnOwners(sets));
  ExpectAll(direct, Reply::Status("OK"), sets.size());

  const std::vector<Reply> through_proxy = PipelineThroughProxy(gets);
  ASSERT_EQ(through_proxy.size(), gets.size());
  for (int i = 0, reported = 0; i < kKeyCount && reported < 5; ++i) {
    if (through_proxy[i] == Reply::String(ValueFor(i, 2))) continue;
    ADD_FAILURE() << "key " << i << " read through the proxy: " << through_proxy[i];
    ++reported;
  }
}

// A model of the keys the mixed pipeline touches, to predict each reply.
class KeyspaceModel {
 public:
  Reply Apply(const Command& c) {
    const std::string& op = c[0];
    const std::string& key = c[1];
    if (op == "SET") {
      strings_[key] = c[2];
      lists_.erase(key);
      return Reply::Status("OK");
    }
    if (op == "GET") {
      if (lists_.count(key) > 0) {
        return Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value");
      }
      const auto it = strings_.find(key);
      return it == strings_.end() ? Reply::Nil() : Reply::String(it->second);
    }
    if (op == "INCR") {
      const long long next = std::stoll(strings_.count(key) ? strings_[key] : "0") + 1;
      strings_[key] = std::to_string(next);
      return Reply::Integer(next);
    }
    if (op == "LPUSH") return Reply::Integer(++lists_[key]);
    // DEL
    const bool existed = strings_.erase(key) + lists_.erase(key) > 0;
    return Reply::Integer(existed ? 1 : 0);
  }

 private:
  std::map<std::string, std::string> strings_;
  std::map<std::string, long long> lists_;  // length
};

TEST_F(ProxyRoutingTest, MixedPipelineKeepsOrderAndValues) {
  constexpr int kCommands = 10000;
  constexpr int kKeysPerKind = 100;
  std::mt19937 rng(7);
  std::vector<Command> commands;
  KeyspaceModel model;
  std::vector<Reply> expected;
  std::set<int> owners_used;
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
  for (int i = 0; i < kCommands; ++i) {
    const int n = static_cast<int>(rng() % kKeysPerKind);
    const std::string str = absl::StrCat("mix:str:", n), counter = absl::StrCat("mix:ctr:", n),
                      list = absl::StrCat("mix:list:", n);
    Command c;
    switch (rng() % 6) {
      case 0:
        c = {"SET", str, RandomBytes(rng() % 64, i)};
        break;
      case 1:
        c = {"GET", rng() % 2 ? str : counter};
        break;
      case 2:
        c = {"INCR", counter};
        break;
      case 3:
        c = {"LPUSH", list, absl::StrCat(i)};
        break;
      case 4:
        c = {"DEL", rng() % 3 == 0 ? str : rng() % 2 ? counter : list};
        break;
      default:
        c = {"GET", str};
    }
    owners_used.insert(owners[KeyHashSlot(c[1])]);
    expected.push_back(model.Apply(c));
    commands.push_back(std::move(c));
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  ASSERT_EQ(owners_used.size(), masters.size()) << "the keys must cover every shard";

  // One pipeline of all 10,000 commands, not batches.
  std::unique_ptr<TestClient> client = ConnectProxy();
  ASSERT_NE(client, nullptr);
  const std::vector<Reply> replies = client->Pipeline(commands);
  ASSERT_EQ(replies.size(), expected.size());
  for (size_t i = 0, reported = 0; i < replies.size() && reported < 5; ++i) {
    if (replies[i] == expected[i]) continue;
    ADD_FAILURE() << "command " << i << " (" << commands[i][0] << " "
                  << Reply::String(commands[i][1]) << "): got " << replies[i] << ", expected "
                  << expected[i];
    ++reported;
  }
}

TEST_F(ProxyRoutingTest, SameSlotMultiKeyCommands) {
  std::unique_ptr<TestClient> client = ConnectProxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"MSET", "{multi}a", "1", "{multi}b", "2"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"MGET", "{multi}a", "{multi}b", "{multi}none"}),
            Reply::Array({Reply::String("1"), Reply::String("2"), Reply::Nil()}));
  EXPECT_EQ(client->Command({"EXISTS", "{multi}a", "{multi}b", "{multi}none"}), Reply::Integer(2));
  EXPECT_EQ(client->Command({"DEL", "{multi}a", "{multi}b", "{multi}none"}), Reply::Integer(2));
  EXPECT_EQ(client->Command({"MGET", "{multi}a", "{multi}b"}),
            Reply::Array({Reply::Nil(), Reply::Nil()}));
}

TEST_F(ProxyRoutingTest, CrossSlotCommandsGetRedisError) {
  const std::string a = KeyInSlot(0, "cross"), b = KeyInSlot(kSlotCount - 1, "cross");
  const Reply crossslot = Reply::Error("CROSSSLOT Keys in request don't hash to the same slot");
  std::unique_ptr<TestClient> client = ConnectProxy();
  ASSERT_NE(client, nullptr);
  for (const Command& argv : std::vector<Command>{{"MSET", a, "1", b, "2"},
                                                  {"MGET", a, b},
                                                  {"DEL", a, b},
                                                  {"EXISTS", a, b},
                                                  {"RENAME", a, b}}) {
    EXPECT_EQ(client->Command(argv), crossslot) << argv[0];
    // The same text as a node's, which checks the slots before ownership.
    EXPECT_EQ(NodeReply(argv, /*keyed=*/false), crossslot) << argv[0];
  }
  // Nothing was written.
  EXPECT_EQ(client->Command({"GET", a}), Reply::Nil());
  EXPECT_EQ(client->Command({"GET", b}), Reply::Nil());
}

TEST_F(ProxyRoutingTest, UnknownCommandSameErrorAsRedis) {
  ExpectSameReplyAsNode({"foo", "a", "b"});
  EXPECT_EQ(NodeReply({"foo", "a", "b"}, /*keyed=*/false),
            Reply::Error("ERR unknown command 'foo', with args beginning with: 'a' 'b' "));
  ExpectSameReplyAsNode({"FOO"});
  ExpectSameReplyAsNode({"nosuchcommand", "with", "many", "arguments", "x", "y", "z"});
  ExpectSameReplyAsNode({"foo", std::string(200, 'x')});  // Redis truncates long arguments
  // The connection keeps working afterwards.
  std::unique_ptr<TestClient> client = ConnectProxy();
  ASSERT_NE(client, nullptr);
  client->Command({"foo"});
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
}

TEST_F(ProxyRoutingTest, WrongAritySameErrorAsRedis) {
  for (const Command& argv : std::vector<Command>{
           {"GET"}, {"SET", "k"}, {"MGET"}, {"ECHO"}, {"PING", "a", "b"}, {"SELECT"}, {"INCR"}}) {
    ExpectSameReplyAsNode(argv);
  }
  ExpectSameReplyAsNode({"GET", "arity-key", "extra"});
}

TEST_F(ProxyRoutingTest, LocalCommands) {
  std::unique_ptr<TestClient> client = ConnectProxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
  EXPECT_EQ(client->Command({"PING", "hello\r\nworld"}), Reply::String("hello\r\nworld"));
  EXPECT_EQ(client->Command({"ECHO", "echo me"}), Reply::String("echo me"));
  EXPECT_EQ(client->Command({"SELECT", "0"}), Reply::Status("OK"));
  ExpectSameReplyAsNode({"PING", "msg"});
  ExpectSameReplyAsNode({"ECHO", std::string("\0bin\xff", 5)});
  ExpectSameReplyAsNode({"SELECT", "1"});
}

TEST_F(ProxyRoutingTest, QuitRepliesOkThenCloses) {
  ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(proxy().port()));
  ASSERT_OK(conn.Send(EncodeCommand({"QUIT"})));
  ASSERT_OK_AND_ASSIGN(const ReadResult result, conn.ReadUntilClosed(absl::Seconds(10)));
  EXPECT_EQ(result.data, "+OK\r\n");
  EXPECT_TRUE(result.closed);
}

// Several clients pipeline against the same keys at once: shared counters must add up, and each
// client's own keys must read back exactly, reply order intact.
TEST_F(ProxyRoutingTest, ConcurrentClientsInterleavePipelines) {
  constexpr int kClients = 8;
  constexpr int kRounds = 50;
  constexpr int kCounters = 30;  // shared by all clients, spread over the shards
  std::vector<std::string> counters;
  for (int i = 0; i < kCounters; ++i) counters.push_back(absl::StrCat("concurrent:ctr:", i));

  std::vector<std::vector<std::string>> failures(kClients);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect();
      if (!client.ok()) {
        failures[t].push_back(client.status().ToString());
        return;
      }
      std::vector<long long> last(kCounters, 0);
      for (int round = 0; round < kRounds && failures[t].size() < 5; ++round) {
        std::vector<Command> commands;
        std::vector<Reply> expected;
        for (int i = 0; i < kCounters; ++i) {
          const std::string own = absl::StrCat("concurrent:own:", t, ":", i);
          const std::string value = absl::StrCat(t, ":", round, ":", i);
          commands.push_back({"INCR", counters[i]});
          commands.push_back({"SET", own, value});
          commands.push_back({"GET", own});
          expected.push_back(Reply());  // checked below: increasing integer
          expected.push_back(Reply::Status("OK"));
          expected.push_back(Reply::String(value));
        }
        const std::vector<Reply> replies = (*client)->Pipeline(commands);
        for (size_t j = 0; j < replies.size(); ++j) {
          if (j % 3 == 0) {
            const int i = static_cast<int>(j / 3);
            if (replies[j].type == Reply::Type::kInteger && replies[j].integer > last[i]) {
              last[i] = replies[j].integer;
              continue;
            }
            failures[t].push_back(absl::StrCat("INCR ", counters[i], " -> ",
                                               replies[j].DebugString(), " after ", last[i]));
          } else if (replies[j] != expected[j]) {
            failures[t].push_back(absl::StrCat(commands[j][0], " ", commands[j][1], " -> ",
                                               replies[j].DebugString(), ", expected ",
                                               expected[j].DebugString()));
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kClients; ++t) {
    for (const std::string& failure : failures[t])
      ADD_FAILURE() << "client " << t << ": " << failure;
  }
  std::unique_ptr<TestClient> client = ConnectProxy();
  ASSERT_NE(client, nullptr);
  for (const std::string& counter : counters) {
    EXPECT_EQ(client->Command({"GET", counter}), Reply::String(absl::StrCat(kClients * kRounds)))
        << counter;
  }
}

// With --auth the proxy authenticates its backend connections; its clients need no password.
TEST(ProxyBackendAuthTest, RoutesToPasswordProtectedCluster) {
  RedisClusterOptions cluster_options;
  cluster_options.replicas_per_master = 0;
  cluster_options.password = "backend-secret";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start(cluster_options));
  ProxyOptions proxy_options;
  proxy_options.seeds = cluster->addresses();
  proxy_options.extra_args = {"--auth", cluster_options.password};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, ProxyProcess::Start(proxy_options));

  std::vector<Command> sets, gets;
  std::vector<Reply> oks, values;
  for (int i = 0; i < 1000; ++i) {
    const std::string key = absl::StrCat("auth:", i);
    sets.push_back({"SET", key, absl::StrCat("value ", i)});
    oks.push_back(Reply::Status("OK"));
    gets.push_back({"GET", key});
    values.push_back(Reply::String(absl::StrCat("value ", i)));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  EXPECT_EQ(client->Pipeline(sets), oks);
  EXPECT_EQ(client->Pipeline(gets), values);
  ASSERT_OK_AND_ASSIGN(const std::vector<Reply> direct, cluster->PipelineOnOwners(gets));
  EXPECT_EQ(direct, values);
}

}  // namespace
}  // namespace slotplane::integration
