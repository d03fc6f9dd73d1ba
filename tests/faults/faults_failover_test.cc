// Fault scenarios around masters and replicas (issue table rows 1, 2, 6, 7), each under the
// standard load (scenario_support.h) and each on its own cluster:
//   1. a master SIGKILLed, straight at the cluster with a cluster-aware client (the cluster's own
//      losses) and through slotplane (0 errors, no loss beyond the cluster's);
//   2. CLUSTER FAILOVER (0 errors, 0 lost);
//   6. a master SIGSTOPped longer than backend-timeout (its shard fails with a clear error, other
//      shards untouched);
//   7. a replica killed with read-policy prefer-replica (0 errors, 0 lost).
// 1 (through the proxy) and 6 need failover-hold-timeout / backend-timeout and are skipped while
// slotplane-proxy --help does not list them; SLOTPLANE_FAULTS_MEASURE=1 runs them anyway and only
// reports (the "before" figures).

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/faults/scenario_support.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_util.h"

namespace slotplane::faults {
namespace {

using integration::ProxyOptions;
using integration::ProxyProcess;
using integration::RedisCluster;
using integration::RedisClusterOptions;
using integration::Reply;
using integration::WaitForOk;

constexpr absl::Duration kLoadBound = absl::Seconds(120);   // a load never runs longer
constexpr absl::Duration kStepTimeout = absl::Seconds(60);  // each wait of a scenario
// Acknowledged commands before each fault, and after the cluster has healed.
constexpr int64_t kAcksBefore = 3000;
constexpr int64_t kAcksAfter = 10000;

// Lost writes of scenario 1 straight at the cluster; -1 until that test ran.
int64_t direct_master_kill_lost = -1;

std::string ScenarioPrefix() {
  return absl::StrCat("fault:", ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

class FailoverFaultTest : public ::testing::Test {
 protected:
  void StartCluster(absl::Duration node_timeout = absl::Milliseconds(2000)) {
    RedisClusterOptions options;
    options.node_timeout = node_timeout;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
  }

  void StartProxy(std::vector<std::string> extra_args = {}) {
    ProxyOptions options;
    options.seeds = cluster_->addresses();
    options.extra_args = std::move(extra_args);
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(options));
  }

  // Runs `load`, applies `fault` once kAcksBefore commands were acknowledged, waits for
  // kAcksAfter more after it, and returns the verified report.
  LoadReport RunAround(FaultLoad& load, const std::function<void()>& fault) {
    load.Start();
    EXPECT_TRUE(WaitForAcks(load, kAcksBefore, kStepTimeout)) << "no load before the fault";
    fault();
    EXPECT_TRUE(WaitForAcks(load, kAcksAfter, kStepTimeout)) << "the load did not recover";
    return load.Finish();
  }

  // Kills the master of slot 0 and waits until its replica has taken over.
  void KillMasterOfSlotZero(absl::Duration* promotion) {
    ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
    const absl::Time killed = absl::Now();
    ASSERT_OK(cluster_->KillNode(victim));
    ASSERT_OK(cluster_->WaitForFailover(0, victim, kStepTimeout));
    *promotion = absl::Now() - killed;
  }

  static void ExpectNoAnomaly(const LoadReport& report) {
    EXPECT_EQ(report.checks.unexpected_increments, 0) << "an increment applied twice";
    EXPECT_EQ(report.checks.unverified_keys, 0) << "keys not readable at the end";
    EXPECT_GT(report.checks.acked_increments, 0);
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(FailoverFaultTest, MasterKilledDirectCluster) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  LoadOptions options = StandardLoad(*cluster_, 0, ScenarioPrefix(), kLoadBound);
  TalkToClusterDirectly(*cluster_, options);
  FaultLoad load(options);
  absl::Duration promotion;
  const LoadReport report = RunAround(load, [&] { KillMasterOfSlotZero(&promotion); });
  Publish("1-master-kill-direct", report);
  std::cout << "promotion took " << promotion << std::endl;
  // A cluster-aware client sees errors while no master owns the slots; they are the cluster's.
  ExpectNoAnomaly(report);
  direct_master_kill_lost = report.lost_writes();
}

TEST_F(FailoverFaultTest, MasterKilledThroughProxy) {
  const std::optional<std::string> hold =
      ProxyDurationArg("failover-hold-timeout", absl::Seconds(10));
  const bool measure_only = !hold.has_value();
  if (measure_only && !EnvFlag("SLOTPLANE_FAULTS_MEASURE")) {
    GTEST_SKIP() << "needs failover-hold-timeout: slotplane-proxy --help does not list it";
  }
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  std::vector<std::string> args;
  if (hold) args = {"--failover-hold-timeout", *hold};
  ASSERT_NO_FATAL_FAILURE(StartProxy(args));
  const LoadOptions options = StandardLoad(*cluster_, proxy_->port(), ScenarioPrefix(), kLoadBound);
  FaultLoad load(options);
  absl::Duration promotion;
  const LoadReport report = RunAround(load, [&] { KillMasterOfSlotZero(&promotion); });
  Publish("1-master-kill-proxy", report);
  std::cout << "promotion took " << promotion << std::endl;
  if (measure_only) {
    std::cout << "measured only: slotplane-proxy has no failover-hold-timeout" << std::endl;
    return;
  }
  // Requests are held until the replica is promoted. Only writes already sent to the dead
  // master are ambiguous (not resent, reported with an error): at most one round trip's worth
  // per connection; never an error the hold exists to absorb.
  const int64_t in_flight =
      options.unpipelined_connections +
      (options.connections - options.unpipelined_connections) * options.pipeline;
  EXPECT_LE(report.errors, in_flight) << report.first_error;
  for (const auto& [kind, count] : report.errors_by_kind) {
    EXPECT_EQ(kind.find("CLUSTERDOWN"), std::string::npos) << count << " " << kind;
    EXPECT_EQ(kind.find("unreachable"), std::string::npos) << count << " " << kind;
  }
  ExpectNoAnomaly(report);
  // Redis replicates asynchronously: writes acknowledged just before the kill may be lost by the
  // cluster itself, at most one round trip's worth per connection.
  EXPECT_LE(report.lost_writes(), std::max(direct_master_kill_lost, in_flight));
  EXPECT_LE(absl::Microseconds(report.max_stall_micros), promotion + absl::Milliseconds(500));
}

TEST_F(FailoverFaultTest, ClusterFailoverGraceful) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  FaultLoad load(StandardLoad(*cluster_, proxy_->port(), ScenarioPrefix(), kLoadBound));
  const LoadReport report = RunAround(load, [&] {
    ASSERT_OK_AND_ASSIGN(const int master, cluster_->SlotOwner(0));
    ASSERT_OK_AND_ASSIGN(const std::vector<int> replicas, cluster_->ReplicasOf(master));
    ASSERT_FALSE(replicas.empty());
    ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect(replicas[0]));
    ASSERT_EQ(client->Command({"CLUSTER", "FAILOVER"}), Reply::Status("OK"));
    ASSERT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<int> owner = cluster_->SlotOwner(0);
          if (!owner.ok()) return owner.status();
          if (*owner != replicas[0]) return absl::UnavailableError("not promoted yet");
          return cluster_->CheckStable();
        },
        kStepTimeout));
  });
  Publish("2-cluster-failover", report);
  EXPECT_EQ(report.errors, 0) << report.first_error;
  EXPECT_EQ(report.lost_writes(), 0);
  EXPECT_EQ(report.checks.backwards_reads, 0);
  ExpectNoAnomaly(report);
}

// SIGCONTs the node when the scenario ends, however it ends.
class ResumeOnExit {
 public:
  explicit ResumeOnExit(pid_t pid) : pid_(pid) {}
  ~ResumeOnExit() { kill(pid_, SIGCONT); }

 private:
  pid_t pid_;
};

TEST_F(FailoverFaultTest, MasterStoppedLongerThanBackendTimeout) {
  constexpr absl::Duration kBackendTimeout = absl::Seconds(1);
  constexpr absl::Duration kStopped = absl::Seconds(4);
  const std::optional<std::string> timeout = ProxyDurationArg("backend-timeout", kBackendTimeout);
  const bool measure_only = !timeout.has_value();
  if (measure_only && !EnvFlag("SLOTPLANE_FAULTS_MEASURE")) {
    GTEST_SKIP() << "needs backend-timeout: slotplane-proxy --help does not list it";
  }
  // A node timeout well above the stop: the cluster must not fail the node over meanwhile.
  ASSERT_NO_FATAL_FAILURE(StartCluster(absl::Seconds(30)));
  std::vector<std::string> args;
  if (timeout) args = {"--backend-timeout", *timeout};
  ASSERT_NO_FATAL_FAILURE(StartProxy(args));
  ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster_->SlotOwners());
  ASSERT_OK_AND_ASSIGN(const pid_t pid, NodePid(*cluster_, victim));
  LoadOptions stopped_options =
      StandardLoad(*cluster_, proxy_->port(), ScenarioPrefix() + ":stopped", kLoadBound);
  stopped_options.slot_filter = [&](int slot) { return owners[slot] == victim; };
  LoadOptions other_options =
      StandardLoad(*cluster_, proxy_->port(), ScenarioPrefix() + ":other", kLoadBound);
  other_options.slot_filter = [&](int slot) { return owners[slot] != victim; };
  FaultLoad stopped_load(stopped_options);
  FaultLoad other_load(other_options);
  stopped_load.Start();
  other_load.Start();
  ASSERT_TRUE(WaitForAcks(stopped_load, kAcksBefore, kStepTimeout));
  ASSERT_TRUE(WaitForAcks(other_load, kAcksBefore, kStepTimeout));
  {
    ResumeOnExit resume(pid);
    ASSERT_EQ(kill(pid, SIGSTOP), 0);
    // The fault's length, not a synchronization: the node stays stopped this long.
    absl::SleepFor(kStopped);
  }
  EXPECT_TRUE(WaitForAcks(stopped_load, kAcksBefore, kStepTimeout)) << "no recovery";
  EXPECT_TRUE(WaitForAcks(other_load, kAcksBefore, kStepTimeout));
  const LoadReport stopped = stopped_load.Finish();
  const LoadReport other = other_load.Finish();
  Publish("6-master-sigstop-its-shard", stopped);
  Publish("6-master-sigstop-other-shards", other);
  if (measure_only) {
    std::cout << "measured only: slotplane-proxy has no backend-timeout" << std::endl;
    return;
  }
  EXPECT_EQ(other.errors, 0) << other.first_error;
  EXPECT_LT(absl::Microseconds(other.max_micros), kBackendTimeout) << "other shards stalled";
  EXPECT_GT(stopped.errors, 0) << "requests to the stopped node never failed";
  EXPECT_NE(stopped.first_error.find(absl::StrCat(cluster_->port(victim))), std::string::npos)
      << "the error does not name the node: " << stopped.first_error;
  EXPECT_LE(absl::Microseconds(stopped.max_micros), kBackendTimeout + absl::Seconds(1));
  EXPECT_EQ(stopped.lost_writes() + other.lost_writes(), 0);
  ExpectNoAnomaly(other);
}

TEST_F(FailoverFaultTest, ReplicaKilledWithPreferReplica) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_NO_FATAL_FAILURE(StartProxy({"--read-policy", "prefer-replica"}));
  LoadOptions options = StandardLoad(*cluster_, proxy_->port(), ScenarioPrefix(), kLoadBound);
  options.read_every = 2;  // half the commands are reads, served by replicas
  FaultLoad load(options);
  const LoadReport report = RunAround(load, [&] {
    ASSERT_OK_AND_ASSIGN(const int master, cluster_->SlotOwner(0));
    ASSERT_OK_AND_ASSIGN(const std::vector<int> replicas, cluster_->ReplicasOf(master));
    ASSERT_FALSE(replicas.empty());
    ASSERT_OK(cluster_->KillNode(replicas[0]));
    ASSERT_OK(cluster_->WaitUntilStable(kStepTimeout));
  });
  Publish("7-replica-kill-prefer-replica", report);
  EXPECT_EQ(report.errors, 0) << report.first_error;
  EXPECT_EQ(report.lost_writes(), 0);
  ExpectNoAnomaly(report);
  // Replica reads may lag the acknowledged writes (reported as stale reads): allowed here.
}

}  // namespace
}  // namespace slotplane::faults
