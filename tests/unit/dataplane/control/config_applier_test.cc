#include "dataplane/control/config_applier.h"

#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

ClusterViewPtr OneShardView(uint16_t port) {
  Shard shard;
  shard.slots.push_back({0, 16383});
  shard.master.address = {"127.0.0.1", port};
  return *ClusterView::Create({shard}, 1);
}

// Without workers (before start-up creates them) installs take effect at once.
TEST(ConfigApplierTest, InstallsBeforeWorkersExist) {
  ConfigApplier applier(std::make_shared<const ProxyPolicy>(), nullptr);
  auto policy = std::make_shared<ProxyPolicy>();
  policy->version = 5;
  bool done = false;
  applier.Install(OneShardView(7000), TopologySource::kCache, policy, [&] { done = true; });
  EXPECT_TRUE(done);
  EXPECT_EQ(applier.policy()->version, 5u);
  EXPECT_EQ(applier.view_source(), TopologySource::kCache);
  ASSERT_NE(applier.view(), nullptr);
}

TEST(ConfigApplierTest, DiscoveredViewsWaitWhileTheControlPlaneOwnsTheTopology) {
  ConfigApplier applier(std::make_shared<const ProxyPolicy>(), nullptr);
  applier.Install(OneShardView(7000), TopologySource::kControlPlane, nullptr, nullptr);
  applier.set_control_owns_topology(true);
  applier.InstallDiscoveredView(OneShardView(7001));
  EXPECT_EQ(applier.view()->shards()[0].master.address.port, 7000);
  applier.set_control_owns_topology(false);
  applier.InstallDiscoveredView(OneShardView(7001));
  EXPECT_EQ(applier.view()->shards()[0].master.address.port, 7001);
  EXPECT_EQ(applier.view_source(), TopologySource::kCluster);
}

TEST(ConfigApplierTest, SetOptionsMakesANewVersionOrNothing) {
  ConfigApplier applier(std::make_shared<const ProxyPolicy>(), nullptr);
  bool done = false;
  ASSERT_TRUE(
      applier
          .SetOptions({{"enable-cross-slot", "yes"}, {"max-redirects", "9"}}, [&] { done = true; })
          .ok());
  EXPECT_TRUE(done);
  EXPECT_EQ(applier.policy()->version, 1u);
  EXPECT_TRUE(applier.policy()->enable_cross_slot);
  EXPECT_EQ(applier.policy()->max_redirects, 9);

  absl::Status bad =
      applier.SetOptions({{"enable-cross-slot", "no"}, {"max-redirects", "0"}}, nullptr);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(applier.policy()->version, 1u) << "a failed SET changes nothing";
  EXPECT_TRUE(applier.policy()->enable_cross_slot);
}

}  // namespace
}  // namespace slotplane::dataplane
