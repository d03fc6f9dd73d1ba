// MULTI/EXEC/DISCARD/WATCH/UNWATCH through the proxy: transactions run on the master that owns
// their slot, Redis's own error texts, WATCH against concurrent writers, refusal of keys in two
// slots (leaving no data), slots that move while a transaction is queued, and redis-py's
// transaction helpers.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

constexpr char kCrossSlot[] = "CROSSSLOT Keys in request don't hash to the same slot";
constexpr char kExecAbort[] = "EXECABORT Transaction discarded because of previous errors.";

Reply Ok() { return Reply::Status("OK"); }
Reply Queued() { return Reply::Status("QUEUED"); }

// One key per master (each in the first slot it owns), so tests cover every shard.
absl::StatusOr<std::map<int, std::string>> KeyPerMaster(RedisCluster& cluster,
                                                        const std::string& prefix) {
  absl::StatusOr<std::vector<int>> owners = cluster.SlotOwners();
  if (!owners.ok()) return owners.status();
  std::map<int, std::string> keys;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    const int owner = (*owners)[slot];
    if (owner >= 0 && keys.find(owner) == keys.end()) keys[owner] = KeyInSlot(slot, prefix);
  }
  return keys;
}

class ProxyTransactionsTest : public SharedClusterTest {
 protected:
  std::unique_ptr<TestClient> Proxy() {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect();
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // The value of `key` read straight from the master that owns it.
  Reply OnOwner(const Command& command) {
    absl::StatusOr<int> owner = cluster().SlotOwner(KeyHashSlot(command[1]));
    if (!owner.ok()) return Reply::TransportError(owner.status().ToString());
    absl::StatusOr<std::unique_ptr<TestClient>> node = cluster().Connect(*owner);
    if (!node.ok()) return Reply::TransportError(node.status().ToString());
    return (*node)->Command(command);
  }
};

TEST_F(ProxyTransactionsTest, TransactionRunsAndItsRepliesComeFromExec) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  const std::string a = "{txn-basic}:a", b = "{txn-basic}:b";
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"SET", a, "v"}), Queued());
  EXPECT_EQ(client->Command({"INCR", b}), Queued());
  EXPECT_EQ(client->Command({"GET", a}), Queued());
  EXPECT_EQ(client->Command({"PING"}), Queued());
  EXPECT_EQ(client->Command({"EXEC"}),
            Reply::Array({Ok(), Reply::Integer(1), Reply::String("v"), Reply::Status("PONG")}));
  EXPECT_EQ(OnOwner({"GET", a}), Reply::String("v"));
  EXPECT_EQ(OnOwner({"GET", b}), Reply::String("1"));
  // Back on shared connections.
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("on"));
}

TEST_F(ProxyTransactionsTest, TransactionsRunOnEveryShard) {
  ASSERT_OK_AND_ASSIGN(const auto keys, KeyPerMaster(cluster(), "txn-shard"));
  ASSERT_GE(keys.size(), 3u);
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  for (const auto& [master, key] : keys) {
    const std::string value = absl::StrCat("on-master-", master);
    std::vector<Reply> replies = client->Pipeline(
        {{"MULTI"}, {"SET", key, value}, {"APPEND", key, "!"}, {"GET", key}, {"EXEC"}});
    ASSERT_EQ(replies.size(), 5u);
    EXPECT_EQ(replies[4],
              Reply::Array({Ok(), Reply::Integer(static_cast<long long>(value.size() + 1)),
                            Reply::String(value + "!")}))
        << "master " << master;
    ASSERT_OK_AND_ASSIGN(auto node, cluster().Connect(master));
    EXPECT_EQ(node->Command({"GET", key}), Reply::String(value + "!"));
  }
}

TEST_F(ProxyTransactionsTest, TransactionTouchingTwoSlotsIsRefusedAndLeavesNoData) {
  const std::string a = KeyInSlot(0, "txn-two"), b = KeyInSlot(kSlotCount - 1, "txn-two");
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"SET", a, "1"}), Queued());
  EXPECT_EQ(client->Command({"SET", b, "2"}), Reply::Error(kCrossSlot));
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Error(kExecAbort));
  EXPECT_EQ(OnOwner({"EXISTS", a}), Reply::Integer(0));
  EXPECT_EQ(OnOwner({"EXISTS", b}), Reply::Integer(0));
  // One command whose own keys span two slots is refused the same way.
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"MSET", a, "1", b, "2"}), Reply::Error(kCrossSlot));
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Error(kExecAbort));
  EXPECT_EQ(OnOwner({"EXISTS", a}), Reply::Integer(0));
  // WATCH counts: keys queued after WATCH must share its slot.
  EXPECT_EQ(client->Command({"WATCH", a}), Ok());
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"SET", b, "2"}), Reply::Error(kCrossSlot));
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Error(kExecAbort));
  EXPECT_EQ(OnOwner({"EXISTS", b}), Reply::Integer(0));
  EXPECT_EQ(client->Command({"WATCH", a, b}), Reply::Error(kCrossSlot));
}

TEST_F(ProxyTransactionsTest, ErrorsReadLikeRedis) {
  // The same session against the proxy and against the master of the keys' slot.
  const std::string key = "{txn-errors}:k";
  const std::vector<Command> session = {{"EXEC"},
                                        {"DISCARD"},
                                        {"MULTI"},
                                        {"MULTI"},
                                        {"WATCH", key},
                                        {"SET", key, "1"},
                                        {"NOSUCHCOMMAND", "x"},
                                        {"GET"},
                                        {"SAVE"},
                                        {"EXEC"},
                                        {"GET", key},
                                        {"MULTI"},
                                        {"SET", key, "2"},
                                        {"MULTI"},
                                        {"WATCH", key},
                                        {"EXEC"},
                                        {"GET", key},
                                        {"MULTI"},
                                        {"DISCARD"},
                                        {"EXEC"},
                                        {"MULTI"},
                                        {"EXEC"},
                                        {"UNWATCH"},
                                        {"WATCH", key},
                                        {"MULTI"},
                                        {"EXEC"}};
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"DEL", key}), Reply::Integer(0));
  std::vector<Reply> through_proxy = client->Pipeline(session);
  ASSERT_OK_AND_ASSIGN(const int owner, cluster().SlotOwner(KeyHashSlot(key)));
  ASSERT_OK_AND_ASSIGN(auto node, cluster().Connect(owner));
  EXPECT_EQ(node->Command({"DEL", key}), Reply::Integer(1));
  std::vector<Reply> direct = node->Pipeline(session);
  ASSERT_EQ(through_proxy.size(), direct.size());
  for (size_t i = 0; i < direct.size(); ++i) {
    EXPECT_EQ(through_proxy[i], direct[i]) << "command " << i << ": " << session[i][0];
  }
}

TEST_F(ProxyTransactionsTest, WatchedKeyChangedByAnotherClientMakesExecReturnNil) {
  const std::string key = "{txn-watch}:balance";
  auto client = Proxy();
  auto other = Proxy();
  ASSERT_NE(client, nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(client->Command({"SET", key, "10"}), Ok());
  EXPECT_EQ(client->Command({"WATCH", key}), Ok());
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("off"));
  EXPECT_EQ(client->Command({"GET", key}), Reply::String("10"));
  EXPECT_EQ(other->Command({"SET", key, "20"}), Ok());  // the concurrent write
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"SET", key, "11"}), Queued());
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Nil());
  EXPECT_EQ(OnOwner({"GET", key}), Reply::String("20"));
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("on"));

  // Without a concurrent write the same transaction runs.
  EXPECT_EQ(client->Command({"WATCH", key}), Ok());
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"INCR", key}), Queued());
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Array({Reply::Integer(21)}));

  // UNWATCH drops the watch: a concurrent write no longer aborts.
  EXPECT_EQ(client->Command({"WATCH", key}), Ok());
  EXPECT_EQ(client->Command({"UNWATCH"}), Ok());
  EXPECT_EQ(other->Command({"SET", key, "30"}), Ok());
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"INCR", key}), Queued());
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Array({Reply::Integer(31)}));

  // DISCARD drops the queue and the watch.
  EXPECT_EQ(client->Command({"WATCH", key}), Ok());
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"INCR", key}), Queued());
  EXPECT_EQ(client->Command({"DISCARD"}), Ok());
  EXPECT_EQ(OnOwner({"GET", key}), Reply::String("31"));
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("on"));

  // An empty transaction under WATCH still sees the concurrent write.
  EXPECT_EQ(client->Command({"WATCH", key}), Ok());
  EXPECT_EQ(other->Command({"SET", key, "40"}), Ok());
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Nil());
}

TEST_F(ProxyTransactionsTest, PipelinedTransactionSeesEarlierWritesAndLaterReadsSeeIt) {
  const std::string key = "{txn-order}:n";
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  for (int round = 0; round < 50; ++round) {
    std::vector<Reply> replies =
        client->Pipeline({{"SET", key, "100"}, {"MULTI"}, {"INCR", key}, {"EXEC"}, {"GET", key}});
    ASSERT_EQ(replies.size(), 5u);
    EXPECT_EQ(replies[3], Reply::Array({Reply::Integer(101)})) << "round " << round;
    EXPECT_EQ(replies[4], Reply::String("101")) << "round " << round;
  }
}

TEST_F(ProxyTransactionsTest, ConcurrentTransactionsAreAtomicAndReuseConnections) {
  const std::string key = "{txn-many}:counter";
  constexpr int kClients = 16;
  constexpr int kTransactions = 100;
  // Room in every worker's idle pool for all the clients, whichever worker each lands on: with
  // the default (10 per node per worker) a worker holding more clients closes connections that
  // its next transactions then reopen. PROXY CONFIG SET applies it to the running workers.
  auto admin = Proxy();
  ASSERT_NE(admin, nullptr);
  ASSERT_EQ(
      admin->Command({"PROXY", "CONFIG", "SET", "connections-pool-size", absl::StrCat(kClients)}),
      Ok());
  ASSERT_OK_AND_ASSIGN(const int64_t connects_before, proxy().InfoCounter("private_connects"));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect();
      if (!client.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kTransactions; ++i) {
        std::vector<Reply> replies =
            (*client)->Pipeline({{"MULTI"}, {"INCR", key}, {"INCR", key}, {"EXEC"}});
        // Both increments of one transaction are adjacent: the second is the first + 1.
        if (replies.size() != 4 || replies[3].type != Reply::Type::kArray ||
            replies[3].elements.size() != 2 ||
            replies[3].elements[1].integer != replies[3].elements[0].integer + 1) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(OnOwner({"GET", key}), Reply::String(absl::StrCat(kClients * kTransactions * 2)));
  ASSERT_OK_AND_ASSIGN(const int64_t connects_after, proxy().InfoCounter("private_connects"));
  // Pooled: a connection per concurrent client at most, not one per transaction.
  EXPECT_LE(connects_after - connects_before, kClients + 4);
  EXPECT_EQ(admin->Command({"PROXY", "CONFIG", "SET", "connections-pool-size", "10"}), Ok());
}

TEST_F(ProxyTransactionsTest, KeylessAndLocalCommandsInsideMulti) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  std::vector<Reply> replies = client->Pipeline({{"MULTI"},
                                                 {"PING"},
                                                 {"ECHO", "hi"},
                                                 {"SELECT", "0"},
                                                 {"CLUSTER", "KEYSLOT", "a"},
                                                 {"EXEC"}});
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[5], Reply::Array({Reply::Status("PONG"), Reply::String("hi"), Ok(),
                                      Reply::Integer(KeyHashSlot("a"))}));
  // Commands the proxy cannot run inside one node's transaction are refused, and EXEC aborts.
  replies = client->Pipeline({{"MULTI"}, {"DBSIZE"}, {"SUBSCRIBE", "c"}, {"EXEC"}});
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_TRUE(replies[1].IsError()) << replies[1];
  EXPECT_TRUE(replies[2].IsError()) << replies[2];
  EXPECT_EQ(replies[3], Reply::Error(kExecAbort));
  // A blocking command inside MULTI does not block, as in Redis.
  replies = client->Pipeline({{"MULTI"}, {"BLPOP", "{txn-block}:empty", "0"}, {"EXEC"}});
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[2], Reply::Array({Reply::Nil()}));
}

TEST_F(ProxyTransactionsTest, ResetEndsTheTransaction) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  const std::string key = "{txn-reset}:k";
  std::vector<Reply> replies = client->Pipeline(
      {{"WATCH", key}, {"MULTI"}, {"SET", key, "1"}, {"RESET"}, {"EXEC"}, {"EXISTS", key}});
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[3], Reply::Status("RESET"));
  EXPECT_EQ(replies[4], Reply::Error("ERR EXEC without MULTI"));
  EXPECT_EQ(replies[5], Reply::Integer(0));
}

TEST_F(ProxyTransactionsTest, RedisPyTransactions) {
  const std::string script = absl::StrCat(R"PY(
import sys, threading
import redis
r = redis.Redis(host="127.0.0.1", port=)PY",
                                          proxy().port(), R"PY()
r.delete("{py-txn}:a", "{py-txn}:b")
p = r.pipeline(transaction=True)
p.set("{py-txn}:a", 1).incr("{py-txn}:a").incrby("{py-txn}:b", 5).get("{py-txn}:a")
assert p.execute() == [True, 2, 5, b"2"], "pipeline"

# WATCH-based optimistic locking with a concurrent writer on the first attempt.
other = redis.Redis(host="127.0.0.1", port=)PY",
                                          proxy().port(), R"PY()
attempts = []
def move(pipe):
    value = int(pipe.get("{py-txn}:a"))
    if not attempts:
        other.incr("{py-txn}:a")
    attempts.append(value)
    pipe.multi()
    pipe.set("{py-txn}:a", value * 10)
r.transaction(move, "{py-txn}:a")
assert attempts == [2, 3], attempts
assert r.get("{py-txn}:a") == b"30"

try:
    p = r.pipeline(transaction=True)
    p.set("{py-txn}:a", 1).set("{py-txn-other}:b", 2)
    p.execute()
    raise SystemExit("cross-slot transaction was accepted")
except redis.exceptions.ResponseError as e:
    assert "CROSSSLOT" in str(e) or "EXECABORT" in str(e), str(e)
assert r.get("{py-txn}:a") == b"30"
print("ok")
)PY");
  const std::string path = cluster().work_dir() + "/txn.py";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fwrite(script.data(), 1, script.size(), f);
    std::fclose(f);
  }
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"/usr/bin/python3", path},
                                                        cluster().work_dir(), absl::Seconds(60)));
  EXPECT_TRUE(result.Succeeded()) << result.output;
  EXPECT_NE(result.output.find("ok"), std::string::npos) << result.output;
}

// A cluster of its own: the slot of the transaction's keys moves while it is queued.
class ProxyTransactionMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisClusterOptions options;
    options.replicas_per_master = 0;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
    ProxyOptions proxy_options;
    proxy_options.seeds = cluster_->addresses();
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(proxy_options));
  }

  // Moves `key`'s slot to another master; returns the new owner.
  int MoveSlotOf(const std::string& key) {
    const uint16_t slot = KeyHashSlot(key);
    absl::StatusOr<int> source = cluster_->SlotOwner(slot);
    absl::StatusOr<std::vector<int>> masters = cluster_->Masters();
    EXPECT_TRUE(source.ok() && masters.ok());
    if (!source.ok() || !masters.ok()) return -1;
    const int target = (*masters)[0] != *source ? (*masters)[0] : (*masters)[1];
    SlotMigration migration(*cluster_, slot, *source, target);
    EXPECT_OK(migration.Run());
    return target;
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyTransactionMigrationTest, UnwatchedTransactionFollowsTheSlot) {
  const std::string key = "{txn-moving}:k";
  ASSERT_OK_AND_ASSIGN(auto client, proxy_->Connect());
  EXPECT_EQ(client->Command({"SET", key, "1"}), Ok());  // the proxy learns the current owner
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"INCR", key}), Queued());
  EXPECT_EQ(client->Command({"GET", key}), Queued());
  const int target = MoveSlotOf(key);
  ASSERT_GE(target, 0);
  // The old owner refuses the queued commands (MOVED) and aborts; nothing ran there, so the
  // proxy runs the transaction again on the new owner.
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Array({Reply::Integer(2), Reply::String("2")}));
  ASSERT_OK_AND_ASSIGN(auto node, cluster_->Connect(target));
  EXPECT_EQ(node->Command({"GET", key}), Reply::String("2"));
}

TEST_F(ProxyTransactionMigrationTest, WatchedTransactionAbortsWhenTheSlotMoves) {
  const std::string key = "{txn-moving-watched}:k";
  ASSERT_OK_AND_ASSIGN(auto client, proxy_->Connect());
  EXPECT_EQ(client->Command({"SET", key, "1"}), Ok());
  EXPECT_EQ(client->Command({"WATCH", key}), Ok());
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"INCR", key}), Queued());
  const int target = MoveSlotOf(key);
  ASSERT_GE(target, 0);
  // The watch was on the old owner: EXEC answers nil, as if the key had changed...
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Nil());
  // ...and the client's retry runs on the new owner.
  EXPECT_EQ(client->Command({"WATCH", key}), Ok());
  EXPECT_EQ(client->Command({"MULTI"}), Ok());
  EXPECT_EQ(client->Command({"INCR", key}), Queued());
  EXPECT_EQ(client->Command({"EXEC"}), Reply::Array({Reply::Integer(2)}));
  ASSERT_OK_AND_ASSIGN(auto node, cluster_->Connect(target));
  EXPECT_EQ(node->Command({"GET", key}), Reply::String("2"));
}

}  // namespace
}  // namespace slotplane::integration
