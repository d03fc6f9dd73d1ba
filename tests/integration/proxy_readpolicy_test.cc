// Reads from replicas through slotplane-proxy (read-policy): replica connections send READONLY,
// only read-only commands go to them, the master is used for everything else, and a dead replica
// falls back to the master without a client-visible error.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;  // each test starts proxies with its own read policy
  return options;
}());

using Command = std::vector<std::string>;
constexpr int kKeys = 300;

std::string Key(int i) { return absl::StrCat("rp:", i); }

// cmdstat_<command> calls of `node` (0 when never called).
long long Calls(TestClient& node, const std::string& command) {
  const std::map<std::string, std::string> info =
      ParseInfoText(node.Command({"INFO", "commandstats"}).str);
  auto it = info.find("cmdstat_" + command);
  long long calls = 0;
  if (it == info.end()) return 0;
  for (absl::string_view field : absl::StrSplit(it->second, ',')) {
    if (absl::ConsumePrefix(&field, "calls=")) (void)absl::SimpleAtoi(field, &calls);
  }
  return calls;
}

class ProxyReadPolicyTest : public SharedClusterTest {
 protected:
  std::unique_ptr<ProxyProcess> StartProxy(const std::string& policy, bool cross_slot = false) {
    ProxyOptions options;
    options.seeds = cluster().addresses();
    options.extra_args = {"--read-policy", policy};
    if (cross_slot) {
      options.extra_args.push_back("--enable-cross-slot");
      options.extra_args.push_back("yes");
    }
    absl::StatusOr<std::unique_ptr<ProxyProcess>> proxy = ProxyProcess::Start(options);
    EXPECT_TRUE(proxy.ok()) << proxy.status();
    return proxy.ok() ? *std::move(proxy) : nullptr;
  }

  // Writes the keys through `proxy` and waits until every replica has them.
  void WriteKeys(ProxyProcess& proxy) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy.Connect());
    std::vector<Command> sets;
    for (int i = 0; i < kKeys; ++i) sets.push_back({"SET", Key(i), absl::StrCat("v", i)});
    for (const Reply& r : client->Pipeline(sets)) ASSERT_EQ(r, Reply::Status("OK"));
    ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
    for (int master : masters) ASSERT_OK(cluster().WaitForReplicasInSync(master));
  }

  struct Counts {
    long long masters = 0;
    long long replicas = 0;
    std::vector<long long> per_replica;
  };

  // cmdstat_<command> summed over masters and over replicas.
  Counts Count(const std::string& command) {
    Counts counts;
    absl::StatusOr<std::vector<int>> masters = cluster().Masters();
    EXPECT_TRUE(masters.ok());
    for (int node = 0; node < cluster().node_count(); ++node) {
      absl::StatusOr<std::unique_ptr<TestClient>> c = cluster().Connect(node);
      if (!c.ok()) continue;
      const long long n = Calls(**c, command);
      const bool is_master = std::find(masters->begin(), masters->end(), node) != masters->end();
      if (is_master) {
        counts.masters += n;
      } else {
        counts.replicas += n;
        counts.per_replica.push_back(n);
      }
    }
    return counts;
  }

  // Reads every key through `proxy` (GET and STRLEN, pipelined) and checks the values; returns
  // the GET calls the masters and the replicas served meanwhile.
  Counts ReadAll(ProxyProcess& proxy) {
    const Counts before = Count("get");
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect();
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return {};
    std::vector<Command> gets;
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < kKeys; ++i) gets.push_back({"GET", Key(i)});
    }
    const std::vector<Reply> replies = (*client)->Pipeline(gets);
    for (size_t i = 0; i < replies.size(); ++i) {
      EXPECT_EQ(replies[i], Reply::String(absl::StrCat("v", i % kKeys))) << gets[i][1];
      if (replies[i] != Reply::String(absl::StrCat("v", i % kKeys))) break;
    }
    Counts after = Count("get");
    after.masters -= before.masters;
    after.replicas -= before.replicas;
    for (size_t r = 0; r < after.per_replica.size() && r < before.per_replica.size(); ++r) {
      after.per_replica[r] -= before.per_replica[r];
    }
    return after;
  }
};

TEST_F(ProxyReadPolicyTest, MasterReadsOnlyFromMasters) {
  std::unique_ptr<ProxyProcess> proxy = StartProxy("master");
  ASSERT_NE(proxy, nullptr);
  WriteKeys(*proxy);
  const Counts counts = ReadAll(*proxy);
  EXPECT_EQ(counts.replicas, 0);
  EXPECT_GE(counts.masters, 3 * kKeys);
}

TEST_F(ProxyReadPolicyTest, ReplicaReadsFromEveryReplicaAndWritesToMasters) {
  for (const char* policy : {"replica", "prefer-replica"}) {
    SCOPED_TRACE(policy);
    std::unique_ptr<ProxyProcess> proxy = StartProxy(policy);
    ASSERT_NE(proxy, nullptr);
    const long long readonly_before = Count("readonly").replicas;
    const long long sets_on_masters = Count("set").masters;
    WriteKeys(*proxy);
    EXPECT_EQ(Count("set").masters - sets_on_masters, kKeys);  // writes: masters only
    const Counts counts = ReadAll(*proxy);
    EXPECT_EQ(counts.masters, 0);
    EXPECT_GE(counts.replicas, 3 * kKeys);
    for (long long n : counts.per_replica) EXPECT_GT(n, 0) << "a replica served no read";
    EXPECT_GT(Count("readonly").replicas, readonly_before);  // READONLY before the reads
  }
}

TEST_F(ProxyReadPolicyTest, PreferMasterAndAny) {
  std::unique_ptr<ProxyProcess> prefer_master = StartProxy("prefer-master");
  ASSERT_NE(prefer_master, nullptr);
  WriteKeys(*prefer_master);
  Counts counts = ReadAll(*prefer_master);
  EXPECT_EQ(counts.replicas, 0);
  EXPECT_GE(counts.masters, 3 * kKeys);

  std::unique_ptr<ProxyProcess> any = StartProxy("any");
  ASSERT_NE(any, nullptr);
  counts = ReadAll(*any);
  EXPECT_GT(counts.replicas, 0);
  EXPECT_GT(counts.masters, 0);
}

TEST_F(ProxyReadPolicyTest, SplitReadsGoToReplicas) {
  std::unique_ptr<ProxyProcess> proxy = StartProxy("replica", /*cross_slot=*/true);
  ASSERT_NE(proxy, nullptr);
  WriteKeys(*proxy);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  const long long masters_before = Count("mget").masters;
  const long long replicas_before = Count("mget").replicas;
  Command mget{"MGET"};
  std::vector<Reply> want;
  for (int i = 0; i < kKeys; ++i) {
    mget.push_back(Key(i));
    want.push_back(Reply::String(absl::StrCat("v", i)));
  }
  EXPECT_EQ(client->Command(mget), Reply::Array(want));
  EXPECT_EQ(Count("mget").masters, masters_before);
  EXPECT_GT(Count("mget").replicas, replicas_before);
}

// A replica that dies: reads of its shard go to the master, with no error for any of them, not
// even for those already sent to the dead replica.
TEST(ProxyReadPolicyFailureTest, DeadReplicaFallsBackToMaster) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start());
  ProxyOptions options;
  options.seeds = cluster->addresses();
  options.extra_args = {"--read-policy", "replica"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, ProxyProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  std::vector<Command> sets, gets;
  std::vector<Reply> want;
  for (int i = 0; i < kKeys; ++i) {
    sets.push_back({"SET", Key(i), absl::StrCat("v", i)});
    gets.push_back({"GET", Key(i)});
    want.push_back(Reply::String(absl::StrCat("v", i)));
  }
  for (const Reply& r : client->Pipeline(sets)) ASSERT_EQ(r, Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster->Masters());
  for (int master : masters) ASSERT_OK(cluster->WaitForReplicasInSync(master));
  ASSERT_EQ(client->Pipeline(gets), want);  // replica connections are up

  ASSERT_OK_AND_ASSIGN(const std::vector<int> replicas, cluster->ReplicasOf(masters[0]));
  ASSERT_FALSE(replicas.empty());
  ASSERT_OK(cluster->KillNode(replicas[0]));
  for (int round = 0; round < 20; ++round) {
    const std::vector<Reply> replies = client->Pipeline(gets);
    ASSERT_EQ(replies, want) << "round " << round;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(proxy->IsAlive());
}

}  // namespace
}  // namespace slotplane::integration
