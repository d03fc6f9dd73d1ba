// A failover in the cluster reaches the watch streams as a new topology version: the promoted
// replica is the master of the dead master's slots, and the dead node is marked failed or gone.

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/integration/control_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/watch_client.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kFailoverTimeout = absl::Seconds(45);

const auto* const kGrpc = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

// The master port of `slot` in a snapshot (0 when uncovered).
uint32_t MasterPortOf(const v1::Snapshot& snapshot, uint32_t slot) {
  for (const v1::Shard& shard : snapshot.config().topology().shards()) {
    for (const v1::SlotRange& range : shard.slots()) {
      if (range.first() <= slot && slot <= range.last()) return shard.master().port();
    }
  }
  return 0;
}

TEST(ControlFailoverTest, FailoverMakesANewTopologyVersion) {
  RedisClusterOptions cluster_options;
  cluster_options.node_timeout = absl::Milliseconds(1000);
  ASSERT_OK_AND_ASSIGN(auto cluster, RedisCluster::Start(cluster_options));
  ControlOptions control_options;
  control_options.cluster = cluster->addresses();
  control_options.poll_interval_ms = 200;
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(control_options));

  WatchClientOptions watch_options;
  watch_options.address = control->address();
  watch_options.token = control->proxy_token();
  ASSERT_OK_AND_ASSIGN(auto watch, WatchClient::Open(watch_options));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot before, watch->Next(absl::Seconds(10)));
  ASSERT_OK(watch->Ack(before));

  const uint16_t slot = 0;
  ASSERT_OK_AND_ASSIGN(const int victim, cluster->SlotOwner(slot));
  ASSERT_EQ(MasterPortOf(before, slot), cluster->port(victim));
  ASSERT_OK_AND_ASSIGN(std::vector<int> replicas, cluster->ReplicasOf(victim));
  ASSERT_EQ(replicas.size(), 1u);
  ASSERT_OK(cluster->KillNode(victim));
  ASSERT_OK(cluster->WaitForFailover(slot, victim, kFailoverTimeout));

  // Versions may come one by one (the master seen failed, then the promotion): take them until
  // the promoted replica owns the slot.
  const absl::Time deadline = absl::Now() + kFailoverTimeout;
  uint64_t last_version = before.version();
  v1::Snapshot latest = before;
  while (MasterPortOf(latest, slot) != cluster->port(replicas[0])) {
    ASSERT_LT(absl::Now(), deadline) << "no snapshot names the promoted replica; last one:\n"
                                     << latest.DebugString();
    ASSERT_OK_AND_ASSIGN(latest, watch->Next(deadline - absl::Now()));
    EXPECT_GT(latest.version(), last_version) << "versions only grow";
    last_version = latest.version();
    ASSERT_OK(watch->Ack(latest));
  }
  // Every slot is covered again, and the snapshot agrees with the cluster.
  ASSERT_OK_AND_ASSIGN(std::vector<int> owners, cluster->SlotOwners());
  for (int s = 0; s < kSlotCount; s += 97) {
    EXPECT_EQ(MasterPortOf(latest, s), cluster->port(owners[s])) << "slot " << s;
  }
  const auto topology = control->Ctl({"topology"});
  ASSERT_OK(topology);
  EXPECT_TRUE(topology->Succeeded()) << topology->output;
  EXPECT_NE(topology->output.find(absl::StrCat("127.0.0.1:", cluster->port(replicas[0]))),
            std::string::npos)
      << topology->output;
}

}  // namespace
}  // namespace slotplane::integration
