// Failovers behind a fleet: with the control plane up, a master's death becomes a new topology
// version that every proxy applies and acknowledges; with the control plane down, each proxy
// finds the new master itself (MOVED, lost connections, its own refresher) and keeps serving.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/slot.h"
#include "tests/integration/control_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kRecovery = absl::Seconds(40);
constexpr size_t kBatch = 2048;

class ProxyFleetFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisClusterOptions options;
    options.node_timeout = absl::Milliseconds(1000);
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
    ControlOptions control_options;
    control_options.cluster = cluster_->addresses();
    control_options.poll_interval_ms = ControlPollIntervalMs();
    ASSERT_OK_AND_ASSIGN(control_, ControlProcess::Start(control_options));
    for (int i = 0; i < 2; ++i) {
      ASSERT_OK_AND_ASSIGN(
          auto proxy, ProxyProcess::Start(FleetProxyOptions(*control_, absl::StrCat("proxy-", i),
                                                            "", cluster_->addresses())));
      proxies_.push_back(std::move(proxy));
    }
    ASSERT_OK(WaitForFleet(*control_, Proxies()));
  }

  virtual int ControlPollIntervalMs() const { return 500; }

  void TearDown() override {
    proxies_.clear();
    control_.reset();
  }

  std::vector<ProxyProcess*> Proxies() {
    std::vector<ProxyProcess*> out;
    for (auto& p : proxies_) out.push_back(p.get());
    return out;
  }

  // SET then GET of one key in every slot through `proxy`, values unique to `round`.
  absl::Status EverySlotWorks(const ProxyProcess& proxy, int round) {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect();
    if (!client.ok()) return client.status();
    int wrong = 0;
    std::string first;
    for (int start = 0; start < kSlotCount; start += kBatch) {
      const int end = std::min<int>(kSlotCount, start + kBatch);
      for (int slot = start; slot < end; ++slot) {
        (*client)->Append({"SET", KeyInSlot(slot, "failover"), absl::StrCat(round)});
        (*client)->Append({"GET", KeyInSlot(slot, "failover")});
      }
      for (int slot = start; slot < end; ++slot) {
        const Reply set = (*client)->GetReply();
        const Reply get = (*client)->GetReply();
        if (set == Reply::Status("OK") && get == Reply::String(absl::StrCat(round))) continue;
        if (wrong++ == 0)
          first = absl::StrCat("slot ", slot, ": ", set.DebugString(), " ", get.DebugString());
      }
    }
    if (wrong == 0) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat(wrong, " slots failed; first ", first));
  }

  // The master PROXY CLUSTER NODES names for `slot`'s shard: the master whose slot count is
  // non-zero and that the proxy routes `slot` to is not observable directly, so compare the set
  // of masters with the cluster's own.
  absl::StatusOr<std::vector<std::string>> ProxyMasters(const ProxyProcess& proxy) {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect();
    if (!client.ok()) return client.status();
    const Reply nodes = (*client)->Command({"PROXY", "CLUSTER", "NODES"});
    std::vector<std::string> masters;
    for (const Reply& node : nodes.elements) {
      if (node.elements.size() == 14 && node.elements[5] == Reply::String("master") &&
          node.elements[11].integer > 0) {
        masters.push_back(node.elements[3].str);
      }
    }
    std::sort(masters.begin(), masters.end());
    return masters;
  }

  absl::StatusOr<std::vector<std::string>> ClusterMasters() {
    absl::StatusOr<std::vector<int>> masters = cluster_->Masters();
    if (!masters.ok()) return masters.status();
    std::vector<std::string> out;
    for (int m : *masters) out.push_back(cluster_->address(m).ToString());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ControlProcess> control_;
  std::vector<std::unique_ptr<ProxyProcess>> proxies_;
};

TEST_F(ProxyFleetFailoverTest, NewTopologyReachesEveryProxy) {
  ASSERT_OK_AND_ASSIGN(FleetListing before, ListFleet(*control_));
  ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
  ASSERT_OK(cluster_->WaitForReplicasInSync(victim));
  ASSERT_OK(cluster_->KillNode(victim));
  ASSERT_OK(cluster_->WaitForFailover(0, victim, kRecovery));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> masters, ClusterMasters());

  // Every proxy routes by the new masters, from a version the control plane published.
  for (ProxyProcess* proxy : Proxies()) {
    EXPECT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::vector<std::string>> seen = ProxyMasters(*proxy);
          if (!seen.ok()) return seen.status();
          if (*seen == masters) return absl::OkStatus();
          return absl::UnavailableError(
              absl::StrCat(ListenAddress(*proxy), " routes by ", absl::StrJoin(*seen, ",")));
        },
        kRecovery, absl::Milliseconds(100)));
  }
  ASSERT_OK(WaitForFleet(*control_, Proxies(), kRecovery));
  ASSERT_OK_AND_ASSIGN(FleetListing after, ListFleet(*control_));
  EXPECT_GT(after.current_version, before.current_version);
  int round = 0;
  for (ProxyProcess* proxy : Proxies()) {
    ASSERT_OK_AND_ASSIGN(auto info, FleetInfo(*proxy));
    EXPECT_EQ(info["topology_source"], "control-plane");
    EXPECT_OK(WaitForOk([&] { return EverySlotWorks(*proxy, ++round); }, kRecovery,
                        absl::Milliseconds(200)));
  }
}

TEST_F(ProxyFleetFailoverTest, WithoutTheControlPlaneProxiesFollowTheClusterThemselves) {
  control_->Kill();
  for (ProxyProcess* proxy : Proxies()) {
    ASSERT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::map<std::string, std::string>> info = FleetInfo(*proxy);
          if (!info.ok()) return info.status();
          return (*info)["stream_state"] != "connected" ? absl::OkStatus()
                                                        : absl::UnavailableError("connected");
        },
        absl::Seconds(20)));
  }
  ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
  ASSERT_OK(cluster_->WaitForReplicasInSync(victim));
  ASSERT_OK(cluster_->KillNode(victim));
  ASSERT_OK(cluster_->WaitForFailover(0, victim, kRecovery));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> masters, ClusterMasters());
  int round = 0;
  for (ProxyProcess* proxy : Proxies()) {
    EXPECT_OK(WaitForOk([&] { return EverySlotWorks(*proxy, ++round); }, kRecovery,
                        absl::Milliseconds(200)));
    EXPECT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::vector<std::string>> seen = ProxyMasters(*proxy);
          if (!seen.ok()) return seen.status();
          return *seen == masters ? absl::OkStatus()
                                  : absl::UnavailableError(absl::StrJoin(*seen, ","));
        },
        kRecovery, absl::Milliseconds(100)));
    ASSERT_OK_AND_ASSIGN(auto info, FleetInfo(*proxy));
    EXPECT_EQ(info["topology_source"], "cluster") << "found by the proxy's own discovery";
  }
  // The control plane returns: the proxies take its topology again.
  ASSERT_OK(control_->Restart());
  ASSERT_OK(WaitForFleet(*control_, Proxies(), kRecovery));
  for (ProxyProcess* proxy : Proxies()) {
    ASSERT_OK_AND_ASSIGN(auto info, FleetInfo(*proxy));
    EXPECT_EQ(info["topology_source"], "control-plane");
    EXPECT_OK(EverySlotWorks(*proxy, ++round));
  }
}

// The control plane polls only once a minute here, so a promoted replica reaches the proxies
// before the hold (30 s) ends only because a proxy holding requests asks the control plane for a
// refresh: without that, the SET after the kill fails when its hold expires.
class ProxyFleetHoldTest : public ProxyFleetFailoverTest {
 protected:
  int ControlPollIntervalMs() const override { return 60000; }
};

TEST_F(ProxyFleetHoldTest, HeldRequestsMakeTheControlPlaneFindTheNewMaster) {
  ASSERT_OK(control_->Ctl({"config", "set", "failover-hold-timeout", "30000"}).status());
  ASSERT_OK(WaitForFleet(*control_, Proxies()));
  ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
  ASSERT_OK(cluster_->WaitForReplicasInSync(victim));
  ClientOptions slow;
  slow.io_timeout = kRecovery;  // the promotion, on a loaded machine
  ASSERT_OK_AND_ASSIGN(auto client, proxies_[0]->Connect(slow));
  const std::string key = KeyInSlot(0, "held");
  ASSERT_EQ(client->Command({"SET", key, "before"}), Reply::Status("OK"));
  ASSERT_OK(cluster_->KillNode(victim));
  // Held by the proxy until the control plane publishes the promoted replica: it polls at once
  // when asked, so the answer comes long before its next periodic poll or the hold's end.
  EXPECT_EQ(client->Command({"SET", key, "after"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"GET", key}), Reply::String("after"));
  ASSERT_OK_AND_ASSIGN(auto info, FleetInfo(*proxies_[0]));
  EXPECT_EQ(info["topology_source"], "control-plane");
}

}  // namespace
}  // namespace slotplane::integration
