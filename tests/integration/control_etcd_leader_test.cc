// The leader of several slotplane-control replicas on etcd: the leader SIGKILLed → a follower
// becomes the leader once the dead leader's lease expires (5 s) and polls the topology (a slot
// moved afterwards reaches the new leader's proxies); SIGKILLed amid admin updates through both
// replicas → every acknowledged update is there; a 3-member etcd with one member killed
// (the first endpoint, the one the replicas use) → admin writes still succeed through every
// replica and reach the others, with etcd auth too (the token is renewed on another member) and
// the etcd password in no log or status.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/integration/control_process.h"
#include "tests/integration/etcd_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/watch_client.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(60);  // generous for a loaded 2-core machine
// The lease TTL is 5 s: a dead leader is replaced within that plus a campaign round.
constexpr absl::Duration kTakeoverBound = absl::Seconds(15);
constexpr const char* kEtcdPassword = "etcd-password-5b9e";

const auto* const kGrpc = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

class ControlEtcdLeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string missing = EtcdProcess::MissingReason(); !missing.empty()) {
      GTEST_SKIP() << missing;
    }
  }

  // With `auth`: etcd users root and "slotplane" (read-write on /slotplane/ only), auth enabled,
  // and the replicas log in as "slotplane" with kEtcdPassword from a file.
  // With `tls`: etcd serves TLS and wants client certificates; the replicas present one.
  void StartAll(int etcd_members, bool auth = false, bool tls = false) {
    RedisClusterOptions cluster;
    cluster.masters = 3;
    cluster.replicas_per_master = 0;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(cluster));
    ASSERT_OK_AND_ASSIGN(etcd_, EtcdProcess::Start(etcd_members, {}, tls));
    std::vector<std::string> auth_args;
    if (tls) {
      auth_args = {"--etcd-tls-ca",   etcd_->tls_file("ca.pem"),
                   "--etcd-tls-cert", etcd_->tls_file("client.pem"),
                   "--etcd-tls-key",  etcd_->tls_file("client.key")};
    }
    if (auth) {
      const std::vector<std::vector<std::string>> setup = {
          {"user", "add", "root:root-password"},
          {"user", "add", std::string("slotplane:") + kEtcdPassword},
          {"role", "add", "slotplane"},
          {"role", "grant-permission", "slotplane", "--prefix=true", "readwrite", "/slotplane/"},
          {"user", "grant-role", "slotplane", "slotplane"},
          {"auth", "enable"}};
      for (const std::vector<std::string>& command : setup) {
        absl::StatusOr<CommandResult> result = etcd_->Ctl(command);
        ASSERT_OK(result);
        ASSERT_TRUE(result->Succeeded()) << absl::StrJoin(command, " ") << ": " << result->output;
      }
      ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-etcd-auth"));
      secrets_ = std::make_unique<TempDir>(std::move(dir));
      std::ofstream(secrets_->File("etcd.password")) << kEtcdPassword << "\n";
      auth_args.insert(auth_args.end(), {"--etcd-user", "slotplane", "--etcd-password-file",
                                         secrets_->File("etcd.password")});
    }
    for (const char* id : {"replica-a", "replica-b"}) {
      ControlOptions options;
      options.cluster = cluster_->addresses();
      options.store = etcd_->store_url();
      options.poll_interval_ms = 200;
      options.extra_args = {"--replica-id", id};
      options.extra_args.insert(options.extra_args.end(), auth_args.begin(), auth_args.end());
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControlProcess> control, ControlProcess::Start(options));
      replicas_.push_back(std::move(control));
    }
  }

  // Whether `control` says it is the leader (status --json), nullopt when it does not answer.
  static std::optional<bool> IsLeader(const ControlProcess& control) {
    absl::StatusOr<CommandResult> result = control.Ctl({"status", "--json"}, absl::Seconds(10));
    if (!result.ok() || !result->Succeeded()) return std::nullopt;
    // The answering replica's own flag, just before the replica list (which has one per replica).
    return absl::StrContains(result->output, "\"leader\":true,\"replicas\"");
  }

  // The index of the one replica that leads, waiting until exactly one does.
  int WaitForOneLeader(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int leaders = 0, leader = -1;
      for (size_t i = 0; i < replicas_.size(); ++i) {
        if (!replicas_[i]->IsAlive()) continue;
        if (IsLeader(*replicas_[i]).value_or(false)) {
          ++leaders;
          leader = static_cast<int>(i);
        }
      }
      if (leaders == 1) return leader;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return -1;
  }

  static std::string ConfigGet(const ControlProcess& control, const std::string& name) {
    absl::StatusOr<CommandResult> result = control.Ctl({"config", "get", name});
    return result.ok() && result->Succeeded() ? result->output : "";
  }

  void TearDown() override {
    if (HasFailure()) {
      for (auto& control : replicas_) control->PrintLog(60);
      if (etcd_ != nullptr) etcd_->PrintLogs(20);
    }
    replicas_.clear();
    etcd_.reset();
    cluster_.reset();
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<EtcdProcess> etcd_;
  std::vector<std::unique_ptr<ControlProcess>> replicas_;
  std::unique_ptr<TempDir> secrets_;
};

TEST_F(ControlEtcdLeaderTest, KilledLeaderIsReplacedWithinSecondsAndTheNewLeaderPolls) {
  StartAll(1);
  const int leader = WaitForOneLeader(kTimeout);
  ASSERT_GE(leader, 0) << "no single leader";
  const int follower = 1 - leader;
  ControlProcess& survivor = *replicas_[follower];
  WatchClientOptions watch_options;
  watch_options.address = survivor.address();
  watch_options.token = survivor.proxy_token();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WatchClient> watch, WatchClient::Open(watch_options));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first, watch->Next(kTimeout));
  ASSERT_OK(watch->Ack(first));

  const absl::Time killed = absl::Now();
  replicas_[leader]->Kill();
  ASSERT_EQ(WaitForOneLeader(kTimeout), follower);
  const absl::Duration takeover = absl::Now() - killed;
  std::cout << "takeover after the leader's SIGKILL: " << absl::FormatDuration(takeover) << "\n";
  EXPECT_LT(takeover, kTakeoverBound);

  // Only a polling leader can see this: slot 0 moves to another master.
  ASSERT_OK_AND_ASSIGN(int source, cluster_->SlotOwner(0));
  const int target = (source + 1) % 3;
  ASSERT_OK(SlotMigration(*cluster_, 0, source, target).Run());
  const absl::Time deadline = absl::Now() + kTimeout;
  bool moved = false;
  while (!moved && absl::Now() < deadline) {
    absl::StatusOr<v1::Snapshot> snapshot = watch->Next(deadline - absl::Now());
    ASSERT_OK(snapshot);
    ASSERT_OK(watch->Ack(*snapshot));
    for (const v1::Shard& shard : snapshot->config().topology().shards()) {
      for (const v1::SlotRange& range : shard.slots()) {
        if (range.first() == 0 && shard.master().port() == cluster_->port(target)) moved = true;
      }
    }
  }
  EXPECT_TRUE(moved) << "the new leader's proxies never saw slot 0 on its new master";
  const std::string topology = survivor.Ctl({"topology"})->output;
  EXPECT_TRUE(absl::StrContains(topology, absl::StrCat(cluster_->port(target)))) << topology;
}

TEST_F(ControlEtcdLeaderTest, LeaderKilledUnderAdminUpdatesLosesNoAcknowledgedUpdate) {
  StartAll(1);
  const int leader = WaitForOneLeader(kTimeout);
  ASSERT_GE(leader, 0);
  const int follower = 1 - leader;
  // Users added through both replicas in turn; the leader is SIGKILLed after the 6th attempt.
  std::vector<std::string> acknowledged;
  constexpr int kUpdates = 20;
  for (int i = 0; i < kUpdates; ++i) {
    if (i == 6) replicas_[leader]->Kill();
    ControlProcess& target = *replicas_[i % 2];
    if (!target.IsAlive()) continue;
    const std::string name = absl::StrCat("user-", i);
    absl::StatusOr<CommandResult> add =
        target.Ctl({"users", "add", name, "--password", "pw-" + name}, absl::Seconds(20));
    if (add.ok() && add->Succeeded()) acknowledged.push_back(name);
  }
  EXPECT_GE(acknowledged.size(), static_cast<size_t>(kUpdates / 2 + 3));
  ASSERT_EQ(WaitForOneLeader(kTimeout), follower);
  absl::StatusOr<CommandResult> users = replicas_[follower]->Ctl({"users", "ls"});
  ASSERT_OK(users);
  for (const std::string& name : acknowledged) {
    EXPECT_TRUE(absl::StrContains(users->output, name + " ")) << name << " lost:\n"
                                                              << users->output;
  }
}

TEST_F(ControlEtcdLeaderTest, ThreeMemberEtcdWithOneMemberKilledStillServesAdminWrites) {
  StartAll(3);
  ASSERT_GE(WaitForOneLeader(kTimeout), 0);
  etcd_->Kill(0);  // the first endpoint: the one every replica talks to
  for (size_t i = 0; i < replicas_.size(); ++i) {
    const std::string value = absl::StrCat(3000 + i);
    absl::StatusOr<CommandResult> set = replicas_[i]->Ctl({"config", "set", "maxclients", value});
    ASSERT_OK(set);
    EXPECT_TRUE(set->Succeeded()) << set->output;
    // The other replica sees it through its own watch (moved to another member too).
    const ControlProcess& other = *replicas_[1 - i];
    const absl::Time deadline = absl::Now() + kTimeout;
    while (ConfigGet(other, "maxclients") != value + "\n" && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_EQ(ConfigGet(other, "maxclients"), value + "\n");
  }
  // The leader still leads (or a new one does): exactly one.
  EXPECT_GE(WaitForOneLeader(kTimeout), 0);
}

TEST_F(ControlEtcdLeaderTest, EtcdAuthTokenIsRenewedOnAnotherMemberAndThePasswordNeverShows) {
  StartAll(3, /*auth=*/true);
  ASSERT_GE(WaitForOneLeader(kTimeout), 0);
  // etcd's simple tokens are known only to the member that issued them: after the first
  // endpoint dies, the replicas must authenticate again on another member.
  etcd_->Kill(0);
  absl::StatusOr<CommandResult> set = replicas_[0]->Ctl({"config", "set", "maxclients", "4321"});
  ASSERT_OK(set);
  EXPECT_TRUE(set->Succeeded()) << set->output;
  const absl::Time deadline = absl::Now() + kTimeout;
  while (ConfigGet(*replicas_[1], "maxclients") != "4321\n" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(ConfigGet(*replicas_[1], "maxclients"), "4321\n");
  const std::string status = replicas_[1]->Ctl({"status"})->output;
  EXPECT_TRUE(absl::StrContains(status, "(auth)")) << status;
  for (auto& replica : replicas_) {
    EXPECT_FALSE(absl::StrContains(replica->LogText(), kEtcdPassword));
    EXPECT_FALSE(absl::StrContains(replica->Ctl({"status", "--json"})->output, kEtcdPassword));
  }
}

TEST_F(ControlEtcdLeaderTest, EtcdOverTlsWithClientCertificates) {
  StartAll(1, /*auth=*/false, /*tls=*/true);
  ASSERT_GE(WaitForOneLeader(kTimeout), 0);
  absl::StatusOr<CommandResult> set = replicas_[0]->Ctl({"config", "set", "maxclients", "2468"});
  ASSERT_OK(set);
  EXPECT_TRUE(set->Succeeded()) << set->output;
  const absl::Time deadline = absl::Now() + kTimeout;
  while (ConfigGet(*replicas_[1], "maxclients") != "2468\n" && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(ConfigGet(*replicas_[1], "maxclients"), "2468\n");
  absl::StatusOr<CommandResult> status = replicas_[1]->Ctl({"status"});
  ASSERT_OK(status);
  EXPECT_TRUE(absl::StrContains(status->output, "(TLS)")) << status->output;
}

}  // namespace
}  // namespace slotplane::integration
