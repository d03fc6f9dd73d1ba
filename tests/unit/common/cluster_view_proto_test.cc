#include "common/cluster_view_proto.h"

#include <gtest/gtest.h>

namespace slotplane {
namespace {

ClusterNode Node(const std::string& id, uint16_t port, NodeRole role,
                 NodeHealth health = NodeHealth::kOnline) {
  ClusterNode node;
  node.id = id;
  node.address = {"127.0.0.1", port};
  node.role = role;
  node.health = health;
  return node;
}

ClusterViewPtr TwoShards() {
  Shard a;
  a.slots = {{0, 8000}, {16000, 16383}};
  a.master = Node("a", 7001, NodeRole::kMaster);
  a.replicas = {Node("a2", 7003, NodeRole::kReplica, NodeHealth::kFailed)};
  Shard b;
  b.slots = {{8001, 15999}};
  b.master = Node("b", 7002, NodeRole::kMaster, NodeHealth::kLoading);
  auto view = ClusterView::Create({a, b}, 42);
  EXPECT_TRUE(view.ok());
  return *view;
}

TEST(ClusterViewProtoTest, RoundTripKeepsEverything) {
  ClusterViewPtr view = TwoShards();
  v1::Topology proto;
  TopologyToProto(*view, &proto);
  EXPECT_EQ(proto.epoch(), 42u);
  ASSERT_EQ(proto.shards_size(), 2);
  EXPECT_EQ(proto.shards(0).slots_size(), 2);
  EXPECT_EQ(proto.shards(0).replicas(0).health(), v1::NODE_HEALTH_FAILED);
  EXPECT_EQ(proto.shards(1).master().role(), v1::NODE_ROLE_MASTER);

  auto back = ClusterViewFromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE((*back)->SameTopology(*view));
  EXPECT_EQ((*back)->epoch(), 42u);
  EXPECT_EQ((*back)->ShardIndexForSlot(16100), 0);
  EXPECT_EQ((*back)->ShardIndexForSlot(9000), 1);
}

TEST(ClusterViewProtoTest, RejectsBrokenTopologies) {
  v1::Topology proto;
  TopologyToProto(*TwoShards(), &proto);

  v1::Topology overlap = proto;
  overlap.mutable_shards(1)->mutable_slots(0)->set_first(100);
  EXPECT_FALSE(ClusterViewFromProto(overlap).ok());

  v1::Topology out_of_range = proto;
  out_of_range.mutable_shards(1)->mutable_slots(0)->set_last(16384);
  EXPECT_FALSE(ClusterViewFromProto(out_of_range).ok());

  v1::Topology no_master = proto;
  no_master.mutable_shards(0)->clear_master();
  EXPECT_FALSE(ClusterViewFromProto(no_master).ok());

  v1::Topology bad_port = proto;
  bad_port.mutable_shards(0)->mutable_replicas(0)->set_port(70000);
  auto status = ClusterViewFromProto(bad_port).status();
  EXPECT_NE(std::string(status.message()).find("shard 0 replica 0"), std::string::npos) << status;
}

TEST(ClusterViewProtoTest, EmptyTopologyIsValid) {
  auto view = ClusterViewFromProto(v1::Topology());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ((*view)->CoveredSlotCount(), 0);
}

}  // namespace
}  // namespace slotplane
