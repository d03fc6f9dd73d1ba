// Node failures behind a running proxy: after a master dies and its replica takes over, the same
// proxy process serves every slot again with no data lost; a dead replica is invisible to
// clients.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/traffic.h"

namespace slotplane::integration {
namespace {

constexpr size_t kBatch = 2048;  // commands per pipeline
constexpr absl::Duration kRecoveryTimeout = absl::Seconds(30);

using Command = std::vector<std::string>;

// One key in every slot.
std::vector<std::string> KeysInEverySlot(const std::string& prefix) {
  std::vector<std::string> keys;
  for (int slot = 0; slot < kSlotCount; ++slot) keys.push_back(KeyInSlot(slot, prefix));
  return keys;
}

class ProxyFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisClusterOptions options;
    options.node_timeout = absl::Milliseconds(1000);
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
    ProxyOptions proxy_options;
    proxy_options.seeds = cluster_->addresses();
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(proxy_options));
  }

  // Runs `commands` through the proxy on `client` (reconnecting it if needed) in pipelines and
  // returns OK when every reply equals `expected`, else the first wrong reply and how many there
  // were.
  absl::Status RunThroughProxy(std::unique_ptr<TestClient>& client,
                               const std::vector<Command>& commands,
                               const std::vector<Reply>& expected) {
    if (client == nullptr || !client->connected()) {
      absl::StatusOr<std::unique_ptr<TestClient>> connected = proxy_->Connect();
      if (!connected.ok()) return connected.status();
      client = *std::move(connected);
    }
    std::string first_error;
    int wrong = 0;
    for (size_t start = 0; start < commands.size(); start += kBatch) {
      const size_t end = std::min(commands.size(), start + kBatch);
      for (size_t i = start; i < end; ++i) client->Append(commands[i]);
      for (size_t i = start; i < end; ++i) {
        const Reply reply = client->GetReply();
        if (reply == expected[i]) continue;
        if (wrong++ == 0) {
          first_error =
              absl::StrCat(commands[i][0], " ", Reply::String(commands[i][1]).DebugString(), " -> ",
                           reply.DebugString(), ", expected ", expected[i].DebugString());
        }
      }
    }
    if (wrong == 0) return absl::OkStatus();
    return absl::UnavailableError(
        absl::StrCat(wrong, " of ", commands.size(), " replies wrong; first: ", first_error));
  }

  // SET then GET of one key in every slot, with values unique to `round`.
  absl::Status WriteAndReadEverySlot(std::unique_ptr<TestClient>& client, int round) {
    std::vector<Command> commands;
    std::vector<Reply> expected;
    for (const std::string& key : KeysInEverySlot("probe")) {
      const std::string value = absl::StrCat("round ", round);
      commands.push_back({"SET", key, value});
      expected.push_back(Reply::Status("OK"));
      commands.push_back({"GET", key});
      expected.push_back(Reply::String(value));
    }
    return RunThroughProxy(client, commands, expected);
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyFailoverTest, MasterKilledSameProxyServesEverySlotAgain) {
  // Data in every slot, written before the failure and fully replicated.
  const std::vector<std::string> keys = KeysInEverySlot("before");
  std::vector<Command> sets, gets;
  std::vector<Reply> oks, values;
  for (const std::string& key : keys) {
    sets.push_back({"SET", key, key + ":value"});
    oks.push_back(Reply::Status("OK"));
    gets.push_back({"GET", key});
    values.push_back(Reply::String(key + ":value"));
  }
  std::unique_ptr<TestClient> client;
  ASSERT_OK(RunThroughProxy(client, sets, oks));
  const uint16_t slot = 0;
  ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(slot));
  ASSERT_OK(cluster_->WaitForReplicasInSync(victim));
  const pid_t pid = proxy_->pid();
  ASSERT_OK_AND_ASSIGN(const int64_t topology_before, proxy_->InfoCounter("topology_version"));

  ASSERT_OK(cluster_->KillNode(victim));

  // Errors are expected until the cluster has promoted the replica and the proxy noticed; then
  // every slot must work, twice in a row.
  int round = 0;
  ASSERT_OK(WaitForOk([&] { return WriteAndReadEverySlot(client, ++round); }, kRecoveryTimeout,
                      absl::Milliseconds(100)));
  ASSERT_OK(WriteAndReadEverySlot(client, ++round));
  ASSERT_OK(cluster_->WaitForFailover(slot, victim));

  EXPECT_TRUE(proxy_->IsAlive());
  EXPECT_EQ(proxy_->pid(), pid) << "the proxy restarted";
  EXPECT_OK(RunThroughProxy(client, gets, values)) << "data written before the failover";
  ASSERT_OK_AND_ASSIGN(const int64_t topology_after, proxy_->InfoCounter("topology_version"));
  EXPECT_GT(topology_after, topology_before) << "the proxy did not take in the new topology";

  // The old master returns as a replica of the new one; clients notice nothing.
  ASSERT_OK(cluster_->RestartNode(victim));
  ASSERT_OK(cluster_->WaitUntilStable());
  EXPECT_OK(WriteAndReadEverySlot(client, ++round));
  EXPECT_OK(RunThroughProxy(client, gets, values));
  EXPECT_EQ(proxy_->pid(), pid);
}

TEST_F(ProxyFailoverTest, ReplicaKilledNoClientError) {
  TrafficOptions options;
  options.port = proxy_->port();
  for (int i = 0; i < 600; ++i) options.keys.push_back(absl::StrCat("replica-down:", i));
  options.keys_per_round = 60;
  options.max_duration = absl::Seconds(60);
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster_->Masters());
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster_->SlotOwners());
  std::set<int> shards_touched;
  for (const std::string& key : options.keys) shards_touched.insert(owners[KeyHashSlot(key)]);
  ASSERT_EQ(shards_touched.size(), masters.size()) << "the traffic must reach every shard";

  BackgroundTraffic traffic(options);
  ASSERT_TRUE(traffic.WaitForRounds(10));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> replicas, cluster_->ReplicasOf(masters[0]));
  ASSERT_FALSE(replicas.empty());
  const pid_t pid = proxy_->pid();
  ASSERT_OK(cluster_->KillNode(replicas[0]));
  // Until every node has marked the replica failed, and some more traffic after that.
  ASSERT_OK(cluster_->WaitUntilStable());
  ASSERT_TRUE(traffic.WaitForRounds(50));
  traffic.Stop();

  EXPECT_EQ(traffic.failures(), 0);
  for (const std::string& failure : traffic.FailureSamples()) ADD_FAILURE() << failure;
  EXPECT_GT(traffic.rounds(), 60);
  EXPECT_TRUE(proxy_->IsAlive());
  EXPECT_EQ(proxy_->pid(), pid);
}

}  // namespace
}  // namespace slotplane::integration
