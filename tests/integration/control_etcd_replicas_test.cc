// Several slotplane-control replicas sharing one etcd store (a single etcd member started by the
// test): a change made through one replica reaches another replica and a proxy watching it (a
// WatchClient stands in for the proxy) with the same version number; two replicas editing the
// same version with --expected-version give ABORTED exactly once; `slotplanectl status` shows the
// store and the replicas with their leader.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <future>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/integration/control_process.h"
#include "tests/integration/etcd_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/watch_client.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);  // generous for a loaded 2-core machine

SharedClusterEnvironment::Options EnvironmentOptions() {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return options;
}

const auto* const kEnv = SharedClusterEnvironment::Register(EnvironmentOptions());
const auto* const kGrpc = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

class ControlEtcdReplicasTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    if (std::string missing = EtcdProcess::MissingReason(); !missing.empty()) {
      GTEST_SKIP() << missing;
    }
    SharedClusterTest::SetUp();
    ASSERT_OK_AND_ASSIGN(etcd_, EtcdProcess::Start(1));
  }

  std::unique_ptr<ControlProcess> StartReplica(const std::string& id) {
    ControlOptions options;
    options.cluster = cluster().addresses();
    options.store = etcd_->store_url();
    options.extra_args = {"--replica-id", id};
    absl::StatusOr<std::unique_ptr<ControlProcess>> control = ControlProcess::Start(options);
    EXPECT_TRUE(control.ok()) << control.status();
    return control.ok() ? *std::move(control) : nullptr;
  }

  absl::StatusOr<std::unique_ptr<WatchClient>> Watch(const ControlProcess& control) {
    WatchClientOptions options;
    options.address = control.address();
    options.proxy_id = "proxy-on-" + control.address();
    options.token = control.proxy_token();
    return WatchClient::Open(options);
  }

  // slotplanectl's output, asserting the exit code.
  static std::string Ctl(const ControlProcess& control, const std::vector<std::string>& args,
                         int expected_exit = 0) {
    absl::StatusOr<CommandResult> result = control.Ctl(args);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return "";
    EXPECT_EQ(result->ExitCode(), expected_exit)
        << "slotplanectl " << absl::StrJoin(args, " ") << ":\n"
        << result->output;
    return result->output;
  }

  // The version `config get --json` reports (0 when unreadable).
  static uint64_t Version(const ControlProcess& control) {
    absl::StatusOr<CommandResult> result = control.Ctl({"config", "get", "--json"});
    if (!result.ok() || !result->Succeeded()) return 0;
    const std::string& json = result->output;
    const size_t start = json.find("\"version\":");
    if (start == std::string::npos) return 0;
    uint64_t version = 0;
    const size_t from = start + 10;
    if (!absl::SimpleAtoi(json.substr(from, json.find(',', from) - from), &version)) return 0;
    return version;
  }

  // Polls until both replicas report the same non-zero version; returns it.
  static uint64_t SameVersion(const ControlProcess& a, const ControlProcess& b) {
    const absl::Time deadline = absl::Now() + kTimeout;
    while (absl::Now() < deadline) {
      const uint64_t va = Version(a);
      if (va != 0 && va == Version(b)) return va;
      absl::SleepFor(absl::Milliseconds(50));
    }
    ADD_FAILURE() << "the replicas never agreed on a version";
    return 0;
  }

  // The next snapshot whose version is at least `version`.
  static absl::StatusOr<v1::Snapshot> SnapshotAtLeast(WatchClient& watch, uint64_t version) {
    const absl::Time deadline = absl::Now() + kTimeout;
    while (absl::Now() < deadline) {
      absl::StatusOr<v1::Snapshot> snapshot = watch.Next(deadline - absl::Now());
      if (!snapshot.ok()) return snapshot.status();
      if (absl::Status s = watch.Ack(*snapshot); !s.ok()) return s;
      if (snapshot->version() >= version) return snapshot;
    }
    return absl::DeadlineExceededError(absl::StrCat("no snapshot of version ", version));
  }

  void TearDown() override {
    if (HasFailure()) {
      for (ControlProcess* control : {a_.get(), b_.get()}) {
        if (control != nullptr) control->PrintLog(60);
      }
      if (etcd_ != nullptr) etcd_->PrintLogs(20);
    }
    a_.reset();
    b_.reset();
    etcd_.reset();
    SharedClusterTest::TearDown();
  }

  std::unique_ptr<EtcdProcess> etcd_;
  std::unique_ptr<ControlProcess> a_;
  std::unique_ptr<ControlProcess> b_;
};

TEST_F(ControlEtcdReplicasTest, ChangeThroughOneReplicaReachesTheOtherAndItsProxies) {
  a_ = StartReplica("replica-a");
  b_ = StartReplica("replica-b");
  ASSERT_NE(a_, nullptr);
  ASSERT_NE(b_, nullptr);
  const uint64_t before = SameVersion(*a_, *b_);
  ASSERT_GT(before, 0u);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchClient> watch, Watch(*b_));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first, SnapshotAtLeast(*watch, before));
  EXPECT_FALSE(first.config().policy().enable_cross_slot());
  EXPECT_GT(first.config().topology().shards_size(), 0) << "B serves the topology A polled";

  Ctl(*a_, {"config", "set", "enable-cross-slot", "yes"});
  const uint64_t after = Version(*a_);
  ASSERT_GT(after, before);
  // B adopts A's version with A's number and publishes it to its proxy.
  ASSERT_OK_AND_ASSIGN(v1::Snapshot changed, SnapshotAtLeast(*watch, after));
  EXPECT_EQ(changed.version(), after);
  EXPECT_TRUE(changed.config().policy().enable_cross_slot());
  EXPECT_EQ(Ctl(*b_, {"config", "get", "enable-cross-slot"}), "yes\n");
  EXPECT_EQ(Version(*b_), after);

  // And the other way: a user added through B reaches A.
  Ctl(*b_, {"users", "add", "alice", "--password", "s3cret-pw"});
  ASSERT_TRUE(absl::StrContains(Ctl(*a_, {"users", "ls"}), "alice"));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot with_user, SnapshotAtLeast(*watch, Version(*b_)));
  bool found = false;
  for (const v1::ClientUser& user : with_user.config().policy().users()) {
    found = found || user.name() == "alice";
  }
  EXPECT_TRUE(found);
}

TEST_F(ControlEtcdReplicasTest, ExpectedVersionConflictAcrossReplicasIsAbortedExactlyOnce) {
  a_ = StartReplica("replica-a");
  b_ = StartReplica("replica-b");
  ASSERT_NE(a_, nullptr);
  ASSERT_NE(b_, nullptr);
  for (int round = 0; round < 3; ++round) {
    const uint64_t version = SameVersion(*a_, *b_);
    ASSERT_GT(version, 0u);
    const std::string expected = absl::StrCat(version);
    const std::string value_a = absl::StrCat(1000 + round), value_b = absl::StrCat(2000 + round);
    // Both at once, each through its own replica, both expecting the same version.
    auto through_a = std::async(std::launch::async, [&] {
      return a_->Ctl({"config", "set", "maxclients", value_a, "--expected-version", expected});
    });
    auto through_b = std::async(std::launch::async, [&] {
      return b_->Ctl({"config", "set", "maxclients", value_b, "--expected-version", expected});
    });
    absl::StatusOr<CommandResult> ra = through_a.get();
    absl::StatusOr<CommandResult> rb = through_b.get();
    ASSERT_TRUE(ra.ok() && rb.ok());
    const bool a_won = ra->ExitCode() == 0, b_won = rb->ExitCode() == 0;
    EXPECT_NE(a_won, b_won) << "round " << round << ": exactly one wins\nA: " << ra->output
                            << "\nB: " << rb->output;
    const CommandResult& loser = a_won ? *rb : *ra;
    EXPECT_EQ(loser.ExitCode(), 2) << loser.output;
    EXPECT_TRUE(absl::StrContains(loser.output, "ABORTED")) << loser.output;
    // Both replicas converge on the winner's value, one version later.
    EXPECT_EQ(SameVersion(*a_, *b_), version + 1);
    const std::string winner = (a_won ? value_a : value_b) + "\n";
    EXPECT_EQ(Ctl(*a_, {"config", "get", "maxclients"}), winner);
    EXPECT_EQ(Ctl(*b_, {"config", "get", "maxclients"}), winner);
  }
}

TEST_F(ControlEtcdReplicasTest, StatusShowsTheStoreAndTheReplicasWithTheirLeader) {
  a_ = StartReplica("replica-a");
  b_ = StartReplica("replica-b");
  ASSERT_NE(a_, nullptr);
  ASSERT_NE(b_, nullptr);
  // Exactly one leader, both registered, as either replica tells it.
  const absl::Time deadline = absl::Now() + kTimeout;
  std::string status;
  while (absl::Now() < deadline) {
    status = Ctl(*b_, {"status"});
    const bool a_leads = absl::StrContains(status, "replica-a " + a_->address() + " leader yes");
    const bool b_leads = absl::StrContains(status, "replica-b " + b_->address() + " leader yes");
    const bool a_listed = absl::StrContains(status, "replica-a " + a_->address());
    const bool b_listed = absl::StrContains(status, "replica-b " + b_->address());
    if (a_listed && b_listed && a_leads != b_leads) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(absl::StrContains(status, "etcd " + etcd_->endpoint(0) + " prefix /slotplane/"))
      << status;
  EXPECT_TRUE(absl::StrContains(status, "replica-b ")) << status;
  const int leaders =
      (absl::StrContains(status, "leader yes") ? 1 : 0) +
      (absl::StrContains(status.substr(status.find("leader yes") + 1), "leader yes") ? 1 : 0);
  EXPECT_EQ(leaders, 1) << status;
  const std::string json = Ctl(*a_, {"status", "--json"});
  EXPECT_TRUE(absl::StrContains(json, "\"replica_id\":\"replica-a\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"store\":\"etcd ")) << json;
}

}  // namespace
}  // namespace slotplane::integration
