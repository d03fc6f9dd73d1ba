// slotplane::DiscoverTopology against a real Redis Cluster: the view it builds must equal what
// the cluster itself reports, also with dead seeds, a dead replica and after a failover.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/topology_discovery.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

SharedClusterEnvironment::Options EnvironmentOptions() {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return options;
}

const auto* const kEnv = SharedClusterEnvironment::Register(EnvironmentOptions());

// The cluster's own account of the topology, from CLUSTER SHARDS of one node.
struct ClusterFacts {
  std::vector<ShardNodeInfo> slot_master;  // per slot; empty id when uncovered
  // Per master id (of masters that own slots): the addresses of its online replicas.
  std::map<std::string, std::set<std::string>> online_replicas;
  uint64_t current_epoch = 0;
};

void AskClusterFacts(RedisCluster& cluster, int node, ClusterFacts* facts) {
  ASSERT_OK_AND_ASSIGN(const std::vector<ShardInfo> shards, cluster.Shards(node));
  facts->slot_master.assign(kSlotCount, ShardNodeInfo{});
  for (const ShardInfo& shard : shards) {
    if (shard.slots.empty()) continue;  // a master without slots (e.g. a dead, replaced one)
    const ShardNodeInfo* master = shard.master();
    ASSERT_NE(master, nullptr) << "a shard with slots but no master";
    std::set<std::string>& replicas = facts->online_replicas[master->id];
    for (const ShardNodeInfo& replica : shard.nodes) {
      if (replica.role == "replica" && replica.health == "online") {
        replicas.insert(replica.address.ToString());
      }
    }
    for (const SlotRange& range : shard.slots) {
      for (int slot = range.first; slot <= range.last; ++slot) facts->slot_master[slot] = *master;
    }
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, cluster.Connect(node));
  const Reply info = client->Command({"CLUSTER", "INFO"});
  ASSERT_EQ(info.type, Reply::Type::kString) << info;
  facts->current_epoch = std::stoull(ParseInfoText(info.str)["cluster_current_epoch"]);
}

// The view as text, for failure messages.
std::string DescribeView(const ClusterView& view) {
  const auto describe = [](const ClusterNode& node) {
    return absl::StrCat(node.address.ToString(), " ", node.id.substr(0, 8),
                        node.role == NodeRole::kMaster ? " master" : " replica",
                        node.health == NodeHealth::kOnline    ? " online"
                        : node.health == NodeHealth::kLoading ? " loading"
                                                              : " failed");
  };
  std::string out;
  for (const Shard& shard : view.shards()) {
    absl::StrAppend(&out, "shard");
    for (const SlotRange& range : shard.slots) {
      absl::StrAppend(&out, " ", range.first, "-", range.last);
    }
    absl::StrAppend(&out, ": ", describe(shard.master));
    for (const ClusterNode& replica : shard.replicas) {
      absl::StrAppend(&out, "; ", describe(replica));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

DiscoveryOptions SeedsFor(const std::vector<NodeAddress>& seeds) {
  DiscoveryOptions options;
  options.seeds = seeds;
  return options;
}

// Expects the view to say what node `fact_node` of the cluster says: the owner (id and address)
// of every slot and, with `compare_replicas`, each shard's online replicas.
void ExpectViewMatchesCluster(const ClusterView& view, RedisCluster& cluster, int fact_node,
                              bool compare_replicas) {
  ClusterFacts facts;
  ASSERT_NO_FATAL_FAILURE(AskClusterFacts(cluster, fact_node, &facts));
  EXPECT_EQ(view.CoveredSlotCount(), kSlotCount);
  EXPECT_TRUE(view.epoch() == 0 || view.epoch() == facts.current_epoch)
      << "view epoch " << view.epoch() << ", cluster_current_epoch " << facts.current_epoch;
  int mismatched_slots = 0;
  for (int slot = 0; slot < kSlotCount && mismatched_slots < 5; ++slot) {
    const Shard* shard = view.ShardForSlot(slot);
    const ShardNodeInfo& expected = facts.slot_master[slot];
    if (shard != nullptr && shard->master.address == expected.address &&
        shard->master.id == expected.id) {
      continue;
    }
    ++mismatched_slots;
    ADD_FAILURE() << "slot " << slot << ": view says "
                  << (shard ? shard->master.address.ToString() + " " + shard->master.id : "none")
                  << ", cluster says " << expected.address.ToString() << " " << expected.id;
  }
  if (!compare_replicas) return;
  for (const Shard& shard : view.shards()) {
    if (shard.slots.empty()) continue;
    std::set<std::string> online;
    for (const ClusterNode& replica : shard.replicas) {
      if (replica.health == NodeHealth::kOnline) online.insert(replica.address.ToString());
    }
    EXPECT_EQ(online, facts.online_replicas[shard.master.id])
        << "online replicas of " << shard.master.address.ToString();
  }
}

// No shard that owns slots has `dead` as master, and wherever `dead` is listed it is not online.
void ExpectNotServing(const ClusterView& view, const NodeAddress& dead) {
  for (const Shard& shard : view.shards()) {
    if (!shard.slots.empty()) {
      EXPECT_NE(shard.master.address, dead) << "a dead node is master of slots";
    }
  }
  for (const ClusterNode* node : view.AllNodes()) {
    if (node->address == dead) {
      EXPECT_NE(node->health, NodeHealth::kOnline) << dead.ToString() << " listed as online";
    }
  }
}

// An address where nothing listens: a free port that nobody is told about.
NodeAddress ClosedAddress() {
  absl::StatusOr<uint16_t> port = PickFreePort(/*with_cluster_bus=*/false);
  EXPECT_TRUE(port.ok()) << port.status();
  return {"127.0.0.1", port.value_or(1)};
}

class DiscoveryTest : public SharedClusterTest {};

TEST_F(DiscoveryTest, ViewEqualsClusterShards) {
  ASSERT_OK_AND_ASSIGN(ClusterViewPtr view, DiscoverTopology(SeedsFor(cluster().addresses())));
  ExpectViewMatchesCluster(*view, cluster(), 0, /*compare_replicas=*/true);
}

TEST_F(DiscoveryTest, EverySeedGivesTheSameView) {
  ASSERT_OK_AND_ASSIGN(ClusterViewPtr first, DiscoverTopology(SeedsFor({cluster().address(0)})));
  for (int node = 1; node < cluster().node_count(); ++node) {
    ASSERT_OK_AND_ASSIGN(ClusterViewPtr view,
                         DiscoverTopology(SeedsFor({cluster().address(node)})));
    EXPECT_TRUE(view->SameTopology(*first))
        << "seed " << cluster().address(node).ToString() << " gives\n"
        << DescribeView(*view) << "seed " << cluster().address(0).ToString() << " gives\n"
        << DescribeView(*first);
  }
}

TEST_F(DiscoveryTest, SkipsUnreachableSeeds) {
  ASSERT_OK_AND_ASSIGN(ClusterViewPtr view,
                       DiscoverTopology(SeedsFor({ClosedAddress(), ClosedAddress(),
                                                  cluster().address(cluster().node_count() - 1)})));
  ExpectViewMatchesCluster(*view, cluster(), 0, /*compare_replicas=*/true);
}

TEST_F(DiscoveryTest, FailsWhenNoSeedAnswers) {
  const NodeAddress a = ClosedAddress();
  const NodeAddress b = ClosedAddress();
  const absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(SeedsFor({a, b}));
  ASSERT_FALSE(view.ok());
  // The error names every seed so that an operator can tell which ones were tried.
  EXPECT_NE(view.status().message().find(a.ToString()), absl::string_view::npos) << view.status();
  EXPECT_NE(view.status().message().find(b.ToString()), absl::string_view::npos) << view.status();
}

// The tests below break their cluster, so each one owns a cluster of its own.

TEST(DiscoveryFaultTest, DeadReplica) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start());
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster->Masters());
  ASSERT_OK_AND_ASSIGN(const std::vector<int> replicas, cluster->ReplicasOf(masters[0]));
  ASSERT_FALSE(replicas.empty());
  const int dead = replicas[0];
  ASSERT_OK(cluster->KillNode(dead));

  // The dead replica first in the seed list, before the cluster even noticed it is gone.
  std::vector<NodeAddress> seeds = {cluster->address(dead)};
  for (int node = 0; node < cluster->node_count(); ++node) {
    if (node != dead) seeds.push_back(cluster->address(node));
  }
  ASSERT_OK_AND_ASSIGN(ClusterViewPtr view, DiscoverTopology(SeedsFor(seeds)));
  ExpectViewMatchesCluster(*view, *cluster, masters[0], /*compare_replicas=*/false);

  // Once every node has marked it failed, it must not be offered as an online replica.
  ASSERT_OK(cluster->WaitUntilStable());
  ASSERT_OK_AND_ASSIGN(view, DiscoverTopology(SeedsFor(seeds)));
  ExpectViewMatchesCluster(*view, *cluster, masters[0], /*compare_replicas=*/true);
  ExpectNotServing(*view, cluster->address(dead));
}

TEST(DiscoveryFaultTest, FailoverPromotesTheReplica) {
  RedisClusterOptions options;
  options.node_timeout = absl::Milliseconds(1000);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start(options));
  const uint16_t slot = 0;
  ASSERT_OK_AND_ASSIGN(const int old_master, cluster->SlotOwner(slot));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> replicas, cluster->ReplicasOf(old_master));
  ASSERT_EQ(replicas.size(), 1u);
  ASSERT_OK(cluster->KillNode(old_master));
  ASSERT_OK(cluster->WaitForFailover(slot, old_master));
  ASSERT_OK_AND_ASSIGN(const int new_master, cluster->SlotOwner(slot));
  EXPECT_EQ(new_master, replicas[0]);

  // The dead master first in the seed list: it must be skipped, and never chosen as master.
  std::vector<NodeAddress> seeds = {cluster->address(old_master)};
  for (int node = 0; node < cluster->node_count(); ++node) {
    if (node != old_master) seeds.push_back(cluster->address(node));
  }
  ASSERT_OK_AND_ASSIGN(ClusterViewPtr view, DiscoverTopology(SeedsFor(seeds)));
  ASSERT_NE(view->ShardForSlot(slot), nullptr);
  EXPECT_EQ(view->ShardForSlot(slot)->master.address, cluster->address(new_master));
  ExpectViewMatchesCluster(*view, *cluster, new_master, /*compare_replicas=*/true);
  ExpectNotServing(*view, cluster->address(old_master));
}

TEST(DiscoveryAuthTest, PasswordProtectedCluster) {
  RedisClusterOptions options;
  options.replicas_per_master = 0;
  options.password = "discovery-secret";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start(options));
  DiscoveryOptions discovery = SeedsFor({cluster->address(0)});
  EXPECT_FALSE(DiscoverTopology(discovery).ok()) << "discovery without the password";
  discovery.auth_password = options.password;
  ASSERT_OK_AND_ASSIGN(ClusterViewPtr view, DiscoverTopology(discovery));
  ExpectViewMatchesCluster(*view, *cluster, 0, /*compare_replicas=*/true);
}

}  // namespace
}  // namespace slotplane::integration
