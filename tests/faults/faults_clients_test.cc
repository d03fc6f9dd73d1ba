// Fault scenario 8: clients vanishing mid-pipeline, mid-MULTI, mid-BLPOP and mid-SUBSCRIBE (half
// closing with a FIN, half with an RST). The proxy's open file descriptors and RSS must come back
// to their baseline, and the standard load running beside them sees 0 errors and 0 lost writes.

#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/faults/scenario_support.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::faults {
namespace {

using integration::EncodeCommand;
using integration::ProxyOptions;
using integration::ProxyProcess;
using integration::RawConnection;
using integration::RedisCluster;
using integration::WaitFor;

constexpr absl::Duration kStepTimeout = absl::Seconds(60);
constexpr int kClientsPerKind = 40;
constexpr int kRounds = 4;  // after one warm-up round
// Slack over the baseline: a few descriptors may be in flight (a pooled backend connection
// being replaced), and the allocator keeps some freed memory.
constexpr int64_t kFdSlack = 4;
constexpr int64_t kRssSlackKib = 16 * 1024;

// What a vanishing client sends before it disappears.
struct Vanishing {
  std::string name;
  std::string bytes;
  // Replies to read before closing (0: close right after sending).
  size_t replies_first = 0;
};

std::vector<Vanishing> VanishingKinds() {
  std::string pipeline;
  for (int i = 0; i < 2000; ++i) {
    pipeline += EncodeCommand({"INCR", absl::StrCat("vanish:pipe:{", i % 97, "}")});
  }
  return {
      {"mid-pipeline", pipeline, 0},
      {"mid-multi",
       EncodeCommand({"MULTI"}) + EncodeCommand({"SET", "vanish:{m}a", "1"}) +
           EncodeCommand({"INCR", "vanish:{m}b"}),
       3},
      {"mid-blpop", EncodeCommand({"BLPOP", "vanish:list", "0"}), 0},
      {"mid-subscribe", EncodeCommand({"SUBSCRIBE", "vanish:channel"}), 1},
  };
}

// Opens kClientsPerKind clients of `kind`, lets each send (and read what it must), waits until
// the proxy holds them (one descriptor each, at least, over `idle_fds`, its count before any
// client vanished; a PING answered on another connection first), then closes them all.
void VanishOnce(ProxyProcess& proxy, const Vanishing& kind, int64_t idle_fds) {
  std::vector<RawConnection> clients;
  for (int i = 0; i < kClientsPerKind; ++i) {
    ASSERT_OK_AND_ASSIGN(RawConnection client, RawConnection::Connect(proxy.port()));
    ASSERT_OK(client.Send(kind.bytes));
    if (kind.replies_first > 0) {
      ASSERT_OK(client.ReadReplies(kind.replies_first, kStepTimeout));
    }
    clients.push_back(std::move(client));
  }
  ASSERT_OK_AND_ASSIGN(RawConnection probe, RawConnection::Connect(proxy.port()));
  ASSERT_OK(probe.Send(EncodeCommand({"PING"})));
  ASSERT_OK(probe.ReadReplies(1, kStepTimeout));
  // Each worker accepts on its own listener, so the PING does not prove every client was
  // accepted yet: poll.
  int64_t holding = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<ProcessResources> now = ReadProcessResources(proxy.pid());
        holding = now.ok() ? now->open_fds : 0;
        return holding >= idle_fds + kClientsPerKind;
      },
      kStepTimeout))
      << "the proxy did not hold the clients: " << holding << " fds, " << idle_fds << " idle";
  for (size_t i = 0; i < clients.size(); ++i) clients[i].Close(/*reset=*/i % 2 == 0);
}

void VanishRound(ProxyProcess& proxy, int64_t idle_fds) {
  for (const Vanishing& kind : VanishingKinds()) {
    SCOPED_TRACE(kind.name);
    ASSERT_NO_FATAL_FAILURE(VanishOnce(proxy, kind, idle_fds));
  }
}

TEST(ClientsFaultTest, VanishingClientsLeaveNoDescriptorOrMemoryBehind) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RedisCluster> cluster, RedisCluster::Start());
  ProxyOptions proxy_options;
  proxy_options.seeds = cluster->addresses();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, ProxyProcess::Start(proxy_options));
  FaultLoad load(StandardLoad(*cluster, proxy->port(), "fault:clients", absl::Seconds(300)));
  load.Start();
  ASSERT_TRUE(WaitForAcks(load, 3000, kStepTimeout));

  // Warm-up: pools and buffers reach their working size; the baseline is taken once the proxy
  // has dropped the warm-up's clients.
  ASSERT_OK_AND_ASSIGN(const ProcessResources idle, ReadProcessResources(proxy->pid()));
  ASSERT_NO_FATAL_FAILURE(VanishRound(*proxy, idle.open_fds));
  ProcessResources baseline;
  ProcessResources previous{-1, 0};
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<ProcessResources> now = ReadProcessResources(proxy->pid());
        if (!now.ok()) return false;
        const bool settled = now->open_fds == previous.open_fds;
        previous = *now;
        baseline = *now;
        return settled;
      },
      kStepTimeout, absl::Milliseconds(500)));

  for (int round = 0; round < kRounds; ++round)
    ASSERT_NO_FATAL_FAILURE(VanishRound(*proxy, idle.open_fds));
  ProcessResources after;
  const bool back = WaitFor(
      [&] {
        absl::StatusOr<ProcessResources> now = ReadProcessResources(proxy->pid());
        if (now.ok()) after = *now;
        return now.ok() && now->open_fds <= baseline.open_fds + kFdSlack &&
               now->rss_kib <= baseline.rss_kib + kRssSlackKib;
      },
      kStepTimeout, absl::Milliseconds(100));
  EXPECT_TRUE(WaitForAcks(load, 3000, kStepTimeout));
  const LoadReport report = load.Finish();
  Publish("8-vanishing-clients", report);
  std::cout << "proxy fds " << baseline.open_fds << " -> " << after.open_fds << ", RSS "
            << baseline.rss_kib << " -> " << after.rss_kib << " KiB" << std::endl;
  EXPECT_TRUE(back) << "fds " << baseline.open_fds << " -> " << after.open_fds << ", RSS "
                    << baseline.rss_kib << " -> " << after.rss_kib << " KiB";
  EXPECT_EQ(report.errors, 0) << report.first_error;
  EXPECT_EQ(report.lost_writes(), 0);
  EXPECT_EQ(report.checks.unexpected_increments, 0);
  EXPECT_EQ(report.checks.unverified_keys, 0);
}

}  // namespace
}  // namespace slotplane::faults
