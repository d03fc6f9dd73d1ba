#include "common/cluster_view.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace slotplane {
namespace {

ClusterNode Node(std::string id, uint16_t port, NodeRole role = NodeRole::kMaster) {
  ClusterNode node;
  node.id = std::move(id);
  node.address = NodeAddress{"127.0.0.1", port};
  node.role = role;
  return node;
}

Shard MakeShard(std::vector<SlotRange> slots, ClusterNode master,
                std::vector<ClusterNode> replicas = {}) {
  Shard shard;
  shard.slots = std::move(slots);
  shard.master = std::move(master);
  shard.replicas = std::move(replicas);
  return shard;
}

// Three masters with one replica each, the layout `redis-cli --cluster create` makes.
std::vector<Shard> ThreeShards() {
  return {
      MakeShard({{0, 5460}}, Node("a", 7000), {Node("d", 7003, NodeRole::kReplica)}),
      MakeShard({{5461, 10922}}, Node("b", 7001), {Node("e", 7004, NodeRole::kReplica)}),
      MakeShard({{10923, 16383}}, Node("c", 7002), {Node("f", 7005, NodeRole::kReplica)}),
  };
}

ClusterViewPtr MustCreate(std::vector<Shard> shards, uint64_t epoch = 0) {
  absl::StatusOr<ClusterViewPtr> view = ClusterView::Create(std::move(shards), epoch);
  EXPECT_TRUE(view.ok()) << view.status();
  return view.ok() ? *view : nullptr;
}

// --- Create -------------------------------------------------------------------------------------

TEST(ClusterViewCreateTest, MapsEverySlotToItsShard) {
  ClusterViewPtr view = MustCreate(ThreeShards(), 6);
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->epoch(), 6u);
  EXPECT_EQ(view->ShardIndexForSlot(0), 0);
  EXPECT_EQ(view->ShardIndexForSlot(5460), 0);
  EXPECT_EQ(view->ShardIndexForSlot(5461), 1);
  EXPECT_EQ(view->ShardIndexForSlot(16383), 2);
  ASSERT_NE(view->ShardForSlot(12182), nullptr);
  EXPECT_EQ(view->ShardForSlot(12182)->master.id, "c");
  EXPECT_EQ(view->CoveredSlotCount(), kSlotCount);
}

TEST(ClusterViewCreateTest, UncoveredSlotsHaveNoShard) {
  ClusterViewPtr view = MustCreate({MakeShard({{0, 99}, {200, 299}}, Node("a", 7000))});
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->ShardIndexForSlot(100), ClusterView::kNoShard);
  EXPECT_EQ(view->ShardForSlot(100), nullptr);
  EXPECT_EQ(view->ShardIndexForSlot(250), 0);
  EXPECT_EQ(view->CoveredSlotCount(), 200);
}

TEST(ClusterViewCreateTest, KeepsShardsWithoutSlots) {
  std::vector<Shard> shards = ThreeShards();
  shards.push_back(MakeShard({}, Node("g", 7006)));
  ClusterViewPtr view = MustCreate(std::move(shards));
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->shards().size(), 4u);
  EXPECT_EQ(view->CoveredSlotCount(), kSlotCount);
}

TEST(ClusterViewCreateTest, EmptyViewCoversNothing) {
  ClusterViewPtr view = MustCreate({});
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->CoveredSlotCount(), 0);
  EXPECT_EQ(view->ShardForSlot(0), nullptr);
}

TEST(ClusterViewCreateTest, SortsRangesOfAShard) {
  ClusterViewPtr view = MustCreate({MakeShard({{500, 600}, {0, 10}}, Node("a", 7000))});
  ASSERT_NE(view, nullptr);
  ASSERT_EQ(view->shards()[0].slots.size(), 2u);
  EXPECT_EQ(view->shards()[0].slots[0].first, 0);
  EXPECT_EQ(view->shards()[0].slots[1].first, 500);
}

TEST(ClusterViewCreateTest, RejectsOverlapBetweenShards) {
  absl::StatusOr<ClusterViewPtr> view = ClusterView::Create(
      {MakeShard({{0, 100}}, Node("a", 7000)), MakeShard({{100, 200}}, Node("b", 7001))}, 0);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(view.status().message(), "slot 100 is claimed by shard 0 and shard 1");
}

TEST(ClusterViewCreateTest, RejectsOverlapWithinAShard) {
  absl::StatusOr<ClusterViewPtr> view =
      ClusterView::Create({MakeShard({{0, 100}, {50, 60}}, Node("a", 7000))}, 0);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().message(), "slot 50 is claimed by shard 0 and shard 0");
}

TEST(ClusterViewCreateTest, RejectsOutOfRangeSlots) {
  absl::StatusOr<ClusterViewPtr> view =
      ClusterView::Create({MakeShard({{16000, 16384}}, Node("a", 7000))}, 0);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(view.status().message(), "shard 0: slot range 16000-16384 is outside 0-16383");
}

TEST(ClusterViewCreateTest, RejectsInvertedRanges) {
  absl::StatusOr<ClusterViewPtr> view =
      ClusterView::Create({MakeShard({{10, 5}}, Node("a", 7000))}, 0);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().message(), "shard 0: slot range 10-5 is inverted");
}

// --- AllNodes -----------------------------------------------------------------------------------

TEST(ClusterViewTest, AllNodesListsMastersThenReplicas) {
  ClusterViewPtr view = MustCreate(ThreeShards());
  ASSERT_NE(view, nullptr);
  std::vector<std::string> ids;
  for (const ClusterNode* node : view->AllNodes()) ids.push_back(node->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
}

// --- SameTopology -------------------------------------------------------------------------------

class SameTopologyTest : public ::testing::Test {
 protected:
  // True when a view of ThreeShards() edited by `change` has the same topology as an unedited one.
  template <typename Change>
  bool SameAfter(Change change) {
    std::vector<Shard> shards = ThreeShards();
    change(shards);
    ClusterViewPtr base = MustCreate(ThreeShards());
    ClusterViewPtr changed = MustCreate(std::move(shards));
    if (base == nullptr || changed == nullptr) return false;
    EXPECT_EQ(base->SameTopology(*changed), changed->SameTopology(*base)) << "not symmetric";
    return base->SameTopology(*changed);
  }
};

TEST_F(SameTopologyTest, IdenticalViews) {
  EXPECT_TRUE(SameAfter([](std::vector<Shard>&) {}));
}

TEST_F(SameTopologyTest, EpochIsNotCompared) {
  ClusterViewPtr a = MustCreate(ThreeShards(), 1);
  ClusterViewPtr b = MustCreate(ThreeShards(), 2);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->SameTopology(*b));
}

TEST_F(SameTopologyTest, ShardOrderDoesNotMatter) {
  EXPECT_TRUE(SameAfter([](std::vector<Shard>& s) { std::swap(s[0], s[2]); }));
}

TEST_F(SameTopologyTest, RangeSplitDoesNotMatter) {
  EXPECT_TRUE(SameAfter([](std::vector<Shard>& s) { s[0].slots = {{0, 100}, {101, 5460}}; }));
}

TEST_F(SameTopologyTest, ReplicaOrderDoesNotMatter) {
  auto two_replicas = [](std::vector<Shard>& s) {
    s[1].replicas = {Node("e", 7004, NodeRole::kReplica), Node("g", 7006, NodeRole::kReplica)};
  };
  auto swapped = [&two_replicas](std::vector<Shard>& s) {
    two_replicas(s);
    std::swap(s[1].replicas[0], s[1].replicas[1]);
  };
  std::vector<Shard> a = ThreeShards();
  std::vector<Shard> b = ThreeShards();
  two_replicas(a);
  swapped(b);
  ClusterViewPtr va = MustCreate(std::move(a));
  ClusterViewPtr vb = MustCreate(std::move(b));
  ASSERT_TRUE(va && vb);
  EXPECT_TRUE(va->SameTopology(*vb));
}

TEST_F(SameTopologyTest, SlotMovedToAnotherShard) {
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) {
    s[0].slots = {{0, 5459}};
    s[1].slots = {{5460, 10922}};
  }));
}

TEST_F(SameTopologyTest, SlotBecameUncovered) {
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { s[2].slots = {{10923, 16382}}; }));
}

TEST_F(SameTopologyTest, SlotsSwappedBetweenShards) {
  // Same ranges exist, but a different master owns them.
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { std::swap(s[0].slots, s[1].slots); }));
}

TEST_F(SameTopologyTest, MasterIdChanged) {
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { s[1].master.id = "x"; }));
}

TEST_F(SameTopologyTest, MasterAddressChanged) {
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { s[1].master.address.port = 7999; }));
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { s[1].master.address.host = "10.0.0.1"; }));
}

TEST_F(SameTopologyTest, FailoverSwappedMasterAndReplica) {
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) {
    std::swap(s[0].master, s[0].replicas[0]);
    s[0].master.role = NodeRole::kMaster;
    s[0].replicas[0].role = NodeRole::kReplica;
  }));
}

TEST_F(SameTopologyTest, RoleChanged) {
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { s[2].replicas[0].role = NodeRole::kMaster; }));
}

TEST_F(SameTopologyTest, HealthChanged) {
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { s[0].master.health = NodeHealth::kFailed; }));
  EXPECT_FALSE(
      SameAfter([](std::vector<Shard>& s) { s[0].replicas[0].health = NodeHealth::kLoading; }));
}

TEST_F(SameTopologyTest, ReplicaAddedOrRemoved) {
  EXPECT_FALSE(SameAfter(
      [](std::vector<Shard>& s) { s[0].replicas.push_back(Node("g", 7006, NodeRole::kReplica)); }));
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) { s[0].replicas.clear(); }));
}

TEST_F(SameTopologyTest, ShardAddedOrRemoved) {
  EXPECT_FALSE(
      SameAfter([](std::vector<Shard>& s) { s.push_back(MakeShard({}, Node("g", 7006))); }));
  EXPECT_FALSE(SameAfter([](std::vector<Shard>& s) {
    s.pop_back();
    s[1].slots.push_back({10923, 16383});
  }));
}

// --- NodeAddress --------------------------------------------------------------------------------

TEST(NodeAddressTest, ToString) {
  EXPECT_EQ((NodeAddress{"127.0.0.1", 6379}).ToString(), "127.0.0.1:6379");
  EXPECT_EQ((NodeAddress{"redis-0.example", 7000}).ToString(), "redis-0.example:7000");
  EXPECT_EQ((NodeAddress{"::1", 6379}).ToString(), "[::1]:6379");
}

TEST(ParseNodeAddressTest, AcceptsHostAndPort) {
  absl::StatusOr<NodeAddress> address = ParseNodeAddress("10.1.2.3:7000");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(*address, (NodeAddress{"10.1.2.3", 7000}));
  address = ParseNodeAddress("redis-0.example:65535");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(*address, (NodeAddress{"redis-0.example", 65535}));
}

TEST(ParseNodeAddressTest, AcceptsBracketedIpv6) {
  absl::StatusOr<NodeAddress> address = ParseNodeAddress("[fe80::1]:6379");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(*address, (NodeAddress{"fe80::1", 6379}));
  EXPECT_EQ(address->ToString(), "[fe80::1]:6379");
}

TEST(ParseNodeAddressTest, RoundTripsToString) {
  for (const char* text : {"127.0.0.1:1", "[::1]:6379", "host:30001"}) {
    absl::StatusOr<NodeAddress> address = ParseNodeAddress(text);
    ASSERT_TRUE(address.ok()) << text;
    EXPECT_EQ(address->ToString(), text);
  }
}

TEST(ParseNodeAddressTest, RejectsBadInput) {
  for (const char* text : {"", "localhost", "localhost:", ":6379", "host:0", "host:65536",
                           "host:99999999", "host:-1", "host:+80", "host: 80", "host:80x", "[::1]",
                           "[::1]6379", "[]:6379", "::1:6379", "[::1:6379"}) {
    absl::StatusOr<NodeAddress> address = ParseNodeAddress(text);
    EXPECT_FALSE(address.ok()) << "accepted \"" << text << "\"";
    if (!address.ok()) {
      EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseNodeAddressTest, ErrorsNameTheInputAndTheProblem) {
  EXPECT_EQ(ParseNodeAddress("host:0").status().message(),
            "invalid address \"host:0\": port must be a number in 1-65535");
  EXPECT_EQ(ParseNodeAddress("::1:6379").status().message(),
            "invalid address \"::1:6379\": an IPv6 host must be bracketed, as in \"[::1]:6379\"");
  EXPECT_EQ(ParseNodeAddress("localhost").status().message(),
            "invalid address \"localhost\": expected \"host:port\"");
}

}  // namespace
}  // namespace slotplane
