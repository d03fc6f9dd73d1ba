// Fault scenario 9: a soak. The standard load runs for SLOTPLANE_FAULTS_SOAK_SECONDS (default 45;
// the long variant is 3600) while the proxy's RSS and open descriptors are sampled: both
// must stay flat, and the load must see 0 errors and lose no acknowledged write.

#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <vector>

#include "tests/faults/scenario_support.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_util.h"

namespace slotplane::faults {
namespace {

using integration::ProxyOptions;
using integration::ProxyProcess;
using integration::RedisCluster;

constexpr absl::Duration kSampleEvery = absl::Seconds(3);
// Flat: RSS grows by at most this fraction of the first sample plus a constant (allocator
// noise), descriptors by at most a few (a pooled connection being replaced).
constexpr double kRssGrowth = 0.10;
constexpr int64_t kRssSlackKib = 8 * 1024;
constexpr int64_t kFdSlack = 4;

TEST(SoakFaultTest, RssAndDescriptorsStayFlat) {
  const absl::Duration duration =
      DurationFromEnv("SLOTPLANE_FAULTS_SOAK_SECONDS", absl::Seconds(45));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start());
  ProxyOptions proxy_options;
  proxy_options.seeds = cluster->addresses();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, ProxyProcess::Start(proxy_options));
  FaultLoad load(StandardLoad(*cluster, proxy->port(), "fault:soak", duration + absl::Seconds(60)));
  load.Start();
  ASSERT_TRUE(WaitForAcks(load, 3000, absl::Seconds(60)));

  // One sample per interval; the first is taken after the warm-up above. The interval is the
  // measurement's resolution, not a synchronization.
  std::vector<ProcessResources> samples;
  const absl::Time end = absl::Now() + duration;
  while (absl::Now() < end && load.running()) {
    ASSERT_OK_AND_ASSIGN(const ProcessResources now, ReadProcessResources(proxy->pid()));
    samples.push_back(now);
    absl::SleepFor(std::min(kSampleEvery, end - absl::Now()));
  }
  ASSERT_OK_AND_ASSIGN(const ProcessResources last, ReadProcessResources(proxy->pid()));
  samples.push_back(last);
  const LoadReport report = load.Finish();
  Publish("9-soak", report);
  std::cout << "samples (fds, RSS KiB):";
  for (const ProcessResources& sample : samples) {
    std::cout << " (" << sample.open_fds << ", " << sample.rss_kib << ")";
  }
  std::cout << std::endl;

  const ProcessResources& first = samples.front();
  int64_t max_rss = 0, max_fds = 0;
  for (const ProcessResources& sample : samples) {
    max_rss = std::max(max_rss, sample.rss_kib);
    max_fds = std::max(max_fds, sample.open_fds);
  }
  EXPECT_LE(max_rss,
            first.rss_kib + static_cast<int64_t>(first.rss_kib * kRssGrowth) + kRssSlackKib);
  EXPECT_LE(max_fds, first.open_fds + kFdSlack);
  EXPECT_EQ(report.errors, 0) << report.first_error;
  EXPECT_EQ(report.lost_writes(), 0);
  EXPECT_EQ(report.checks.unexpected_increments, 0);
  EXPECT_EQ(report.checks.backwards_reads, 0);
  EXPECT_EQ(report.checks.unverified_keys, 0);
}

}  // namespace
}  // namespace slotplane::faults
