// Fault scenario 5: the control plane SIGKILLed under load. Proxy A keeps serving the standard
// load with 0 errors and 0 lost writes for the whole outage; proxy B is restarted meanwhile with
// no --cluster, so its topology can only come from its snapshot cache, and serves a load of its
// own with 0 errors; when the control plane is back, both rejoin the fleet.
// The outage lasts 10 s; SLOTPLANE_FAULTS_CONTROL_DOWN_SECONDS sets it (the 60 s).

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/faults/scenario_support.h"
#include "tests/integration/control_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_util.h"

namespace slotplane::faults {
namespace {

using integration::ControlOptions;
using integration::ControlProcess;
using integration::FleetProxyOptions;
using integration::ProxyProcess;
using integration::RedisCluster;
using integration::TempDir;
using integration::WaitForFleet;
using ::slotplane::NodeAddress;

constexpr absl::Duration kStepTimeout = absl::Seconds(60);
constexpr int64_t kAcks = 3000;

TEST(ControlFaultTest, ControlPlaneKilledUnderLoadProxyRestartedFromCache) {
  const absl::Duration outage =
      DurationFromEnv("SLOTPLANE_FAULTS_CONTROL_DOWN_SECONDS", absl::Seconds(10));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start());
  ControlOptions control_options;
  control_options.cluster = cluster->addresses();
  control_options.admin_token = "fault-admin-token";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControlProcess> control,
                       ControlProcess::Start(control_options));
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-faults-control"));
  auto start_proxy = [&](const std::string& id, std::vector<NodeAddress> seeds) {
    return ProxyProcess::Start(
        FleetProxyOptions(*control, id, dir.File(id + ".snapshot"), std::move(seeds)));
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy_a,
                       start_proxy("proxy-a", cluster->addresses()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy_b,
                       start_proxy("proxy-b", cluster->addresses()));
  ASSERT_OK(WaitForFleet(*control, {proxy_a.get(), proxy_b.get()}, kStepTimeout));

  FaultLoad load_a(
      StandardLoad(*cluster, proxy_a->port(), "fault:control:a", outage + absl::Seconds(120)));
  load_a.Start();
  ASSERT_TRUE(WaitForAcks(load_a, kAcks, kStepTimeout));
  const absl::Time killed = absl::Now();
  control->Kill();

  // Proxy B restarts while the control plane is down: its cache is its only topology source.
  ASSERT_OK(proxy_b->Stop());
  proxy_b.reset();
  ASSERT_OK_AND_ASSIGN(proxy_b, start_proxy("proxy-b", {}));
  FaultLoad load_b(
      StandardLoad(*cluster, proxy_b->port(), "fault:control:b", outage + absl::Seconds(120)));
  load_b.Start();
  EXPECT_TRUE(WaitForAcks(load_b, kAcks, kStepTimeout));
  // The fault's length, not a synchronization: the control plane stays down this long.
  const absl::Duration left = outage - (absl::Now() - killed);
  if (left > absl::ZeroDuration()) absl::SleepFor(left);
  EXPECT_TRUE(WaitForAcks(load_a, kAcks, kStepTimeout)) << "proxy A stopped serving";

  ASSERT_OK(control->Restart());
  const absl::Time restarted = absl::Now();
  EXPECT_OK(WaitForFleet(*control, {proxy_a.get(), proxy_b.get()}, kStepTimeout));
  std::cout << "control plane down " << restarted - killed << "; fleet back "
            << absl::Now() - restarted << " after its restart" << std::endl;
  EXPECT_TRUE(WaitForAcks(load_a, kAcks, kStepTimeout));
  const LoadReport report_a = load_a.Finish();
  const LoadReport report_b = load_b.Finish();
  Publish("5-control-kill-steady-proxy", report_a);
  Publish("5-control-kill-restarted-proxy", report_b);
  for (const LoadReport* report : {&report_a, &report_b}) {
    EXPECT_EQ(report->errors, 0) << report->first_error;
    EXPECT_EQ(report->lost_writes(), 0);
    EXPECT_EQ(report->checks.unexpected_increments, 0);
    EXPECT_EQ(report->checks.unverified_keys, 0);
    EXPECT_GT(report->checks.acked_increments, 0);
  }
}

}  // namespace
}  // namespace slotplane::faults
