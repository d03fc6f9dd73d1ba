// Control-plane HA end to end, real processes only: one etcd member, a 3-master Redis cluster,
// three slotplane-control replicas on the same etcd store and two slotplane-proxy processes, each
// given all three replicas (`control-plane A,B,C`).
//
// - A change through any replica (config set through each, a user added) reaches both proxies.
// - The leader SIGKILLed while a thread keeps adding users and setting an option through the two
//   other replicas and clients keep writing and reading through both proxies: no acknowledged
//   update is lost (on the surviving replicas and on both proxies), a new leader is elected and
//   polls the topology (a slot moved afterwards reaches both proxies' routing), the proxy that was
//   on the killed replica moves to another one, both proxies converge on the replicas' latest
//   version, and the clients see no error.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/integration/control_process.h"
#include "tests/integration/etcd_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_client.h"
#include "tests/integration/traffic.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(90);  // generous for a loaded 2-core machine
// The lease TTL is 5 s: a dead leader is replaced within that plus a campaign round.
constexpr absl::Duration kTakeoverBound = absl::Seconds(20);
constexpr int kReplicas = 3;

uint64_t Number(const std::map<std::string, std::string>& info, const std::string& field) {
  uint64_t n = 0;
  auto it = info.find(field);
  if (it == info.end() || !absl::SimpleAtoi(it->second, &n)) return 0;
  return n;
}

// One admin update of the stream: a user added, or `maxclients` set to `value`.
struct Update {
  bool is_user = false;
  std::string value;  // the user's name, or the maxclients value
  bool acked = false;
};

class ControlEtcdFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string missing = EtcdProcess::MissingReason(); !missing.empty()) {
      GTEST_SKIP() << missing;
    }
  }

  void StartControlPlane() {
    RedisClusterOptions cluster;
    cluster.masters = 3;
    cluster.replicas_per_master = 0;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(cluster));
    ASSERT_OK_AND_ASSIGN(etcd_, EtcdProcess::Start(1));
    for (const char* id : {"replica-a", "replica-b", "replica-c"}) {
      ControlOptions options;
      options.cluster = cluster_->addresses();
      options.store = etcd_->store_url();
      options.poll_interval_ms = 200;
      options.extra_args = {"--replica-id", id};
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<ControlProcess> control, ControlProcess::Start(options));
      replicas_.push_back(std::move(control));
    }
  }

  // The index of the replica whose address is `address`, -1 if none.
  int ReplicaAt(const std::string& address) const {
    for (int i = 0; i < kReplicas; ++i) {
      if (replicas_[i]->address() == address) return i;
    }
    return -1;
  }

  // A proxy given every replica (`control-plane A,B,C`) whose stream is on replica `on`
  // (`on_leader`) or on another one (!`on_leader`), with `leader` the leading replica. A proxy
  // picks its first replica at random (to spread a fleet): one that picked another is stopped and
  // started again, up to 40 times ((2/3)^40: never in practice).
  void StartProxy(const std::string& id, int leader, bool on_leader) {
    std::vector<std::string> addresses;
    for (auto& replica : replicas_) addresses.push_back(replica->address());
    // Every replica has the same proxy token; the first one's file serves.
    ProxyOptions options = FleetProxyOptions(*replicas_[0], id, "", cluster_->addresses());
    ASSERT_EQ(options.extra_args[0], "--control-plane");
    options.extra_args[1] = absl::StrJoin(addresses, ",");
    for (int attempt = 0; attempt < 40; ++attempt) {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, ProxyProcess::Start(options));
      std::string replica;
      ASSERT_OK(WaitForOk(
          [&]() -> absl::Status {
            absl::StatusOr<std::map<std::string, std::string>> info = FleetInfo(*proxy);
            if (!info.ok()) return info.status();
            replica = (*info)["control_plane_replica"];
            if ((*info)["stream_state"] == "connected" && !replica.empty()) {
              return absl::OkStatus();
            }
            return absl::UnavailableError(absl::StrCat("stream ", (*info)["stream_state"]));
          },
          kTimeout, absl::Milliseconds(50)));
      if ((ReplicaAt(replica) == leader) == on_leader) {
        ASSERT_OK(WaitForFleet(*replicas_[ReplicaAt(replica)], {proxy.get()}, kTimeout));
        proxies_.push_back(std::move(proxy));
        return;
      }
      ASSERT_OK(proxy->Stop());
    }
    FAIL() << "the proxy never picked the wanted replica";
  }

  // Whether `control` says it is the leader (status --json), nullopt when it does not answer.
  static std::optional<bool> IsLeader(const ControlProcess& control) {
    absl::StatusOr<CommandResult> result = control.Ctl({"status", "--json"}, absl::Seconds(10));
    if (!result.ok() || !result->Succeeded()) return std::nullopt;
    // The answering replica's own flag, just before the replica list (one entry per replica).
    return absl::StrContains(result->output, "\"leader\":true,\"replicas\"");
  }

  // The index of the one live replica that leads, waiting until exactly one does; -1 if none.
  int WaitForOneLeader(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int leaders = 0, leader = -1;
      for (int i = 0; i < kReplicas; ++i) {
        if (!replicas_[i]->IsAlive()) continue;
        if (IsLeader(*replicas_[i]).value_or(false)) {
          ++leaders;
          leader = i;
        }
      }
      if (leaders == 1) return leader;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return -1;
  }

  // Polls until the live replicas agree on one current version and both proxies have applied and
  // acknowledged it with their streams connected; returns that version.
  absl::StatusOr<uint64_t> WaitForConvergence(absl::Duration timeout) {
    uint64_t converged = 0;
    absl::Status status = WaitForOk(
        [&]() -> absl::Status {
          std::optional<uint64_t> version;
          for (auto& replica : replicas_) {
            if (!replica->IsAlive()) continue;
            absl::StatusOr<FleetListing> listing = ListFleet(*replica);
            if (!listing.ok()) return listing.status();
            if (version.has_value() && *version != listing->current_version) {
              return absl::UnavailableError(
                  absl::StrCat("replicas at ", *version, " and ", listing->current_version));
            }
            version = listing->current_version;
          }
          for (auto& proxy : proxies_) {
            absl::StatusOr<std::map<std::string, std::string>> info = FleetInfo(*proxy);
            if (!info.ok()) return info.status();
            if ((*info)["stream_state"] != "connected" ||
                Number(*info, "acked_version") != *version ||
                Number(*info, "policy_version") != *version) {
              return absl::UnavailableError(
                  absl::StrCat(ListenAddress(*proxy), ": stream ", (*info)["stream_state"],
                               ", acked ", (*info)["acked_version"], ", policy ",
                               (*info)["policy_version"], ", replicas at ", *version));
            }
          }
          converged = *version;
          return absl::OkStatus();
        },
        timeout, absl::Milliseconds(100));
    if (!status.ok()) return status;
    return converged;
  }

  // The number of slots the proxy routes to the master on `port` (PROXY CLUSTER NODES).
  static absl::StatusOr<int64_t> ProxySlotsOf(const ProxyProcess& proxy, uint16_t port) {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect();
    if (!client.ok()) return client.status();
    const Reply nodes = (*client)->Command({"PROXY", "CLUSTER", "NODES"});
    if (nodes.type != Reply::Type::kArray) {
      return absl::InternalError(absl::StrCat("PROXY CLUSTER NODES: ", nodes.DebugString()));
    }
    const std::string address = absl::StrCat("127.0.0.1:", port);
    for (const Reply& node : nodes.elements) {
      std::map<std::string, Reply> fields;
      for (size_t i = 0; i + 1 < node.elements.size(); i += 2) {
        fields[node.elements[i].str] = node.elements[i + 1];
      }
      if (fields["address"].str == address && fields["role"].str == "master") {
        return fields["slots"].integer;
      }
    }
    return absl::NotFoundError(absl::StrCat(address, " not among the proxy's masters"));
  }

  static absl::Status CheckAuth(const ProxyProcess& proxy, const std::string& user) {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect();
    if (!client.ok()) return client.status();
    const Reply reply = (*client)->Command({"AUTH", user, "pw-" + user});
    if (reply == Reply::Status("OK")) return absl::OkStatus();
    return absl::NotFoundError(
        absl::StrCat(ListenAddress(proxy), ": AUTH ", user, ": ", reply.DebugString()));
  }

  static std::string ConfigGet(const ControlProcess& control, const std::string& name) {
    // slotplanectl prints the value and a newline.
    absl::StatusOr<CommandResult> result = control.Ctl({"config", "get", name});
    if (!result.ok() || !result->Succeeded()) return "";
    std::string value = result->output;
    if (!value.empty() && value.back() == '\n') value.pop_back();
    return value;
  }

  void TearDown() override {
    if (HasFailure()) {
      for (auto& control : replicas_) control->PrintLog(60);
      if (etcd_ != nullptr) etcd_->PrintLogs(20);
    }
    proxies_.clear();
    replicas_.clear();
    etcd_.reset();
    cluster_.reset();
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<EtcdProcess> etcd_;
  std::vector<std::unique_ptr<ControlProcess>> replicas_;
  std::vector<std::unique_ptr<ProxyProcess>> proxies_;
};

TEST_F(ControlEtcdFleetTest, LeaderKilledUnderAdminUpdatesAndTrafficLosesNothing) {
  ASSERT_NO_FATAL_FAILURE(StartControlPlane());
  const int leader = WaitForOneLeader(kTimeout);
  ASSERT_GE(leader, 0) << "no single leader";
  const int follower_1 = (leader + 1) % kReplicas;
  const int follower_2 = (leader + 2) % kReplicas;
  // Proxy 0's stream is on the leader (it must move when the leader dies), proxy 1's on a
  // follower (it must stay there).
  ASSERT_NO_FATAL_FAILURE(StartProxy("proxy-ha-0", leader, /*on_leader=*/true));
  ASSERT_NO_FATAL_FAILURE(StartProxy("proxy-ha-1", leader, /*on_leader=*/false));
  ASSERT_OK_AND_ASSIGN(auto proxy_1_before, FleetInfo(*proxies_[1]));
  const std::string proxy_1_replica = proxy_1_before["control_plane_replica"];

  // 1. A change through any replica reaches both proxies: an option set through each replica in
  // turn, then the clients' `default` user (defined so that the users added below do not make
  // the traffic's connections authenticate) and a user, through a follower.
  for (int i = 0; i < kReplicas; ++i) {
    const std::string value = absl::StrCat(3000 + i);
    ASSERT_OK_AND_ASSIGN(CommandResult set,
                         replicas_[i]->Ctl({"config", "set", "maxclients", value}));
    ASSERT_TRUE(set.Succeeded()) << set.output;
    for (auto& proxy : proxies_) EXPECT_OK(WaitForOption(*proxy, "maxclients", value, kTimeout));
  }
  ASSERT_OK_AND_ASSIGN(
      CommandResult add_default,
      replicas_[follower_2]->Ctl({"users", "add", "default", "on", "nopass", "~*", "&*", "+@all"}));
  ASSERT_TRUE(add_default.Succeeded()) << add_default.output;
  ASSERT_OK_AND_ASSIGN(
      CommandResult add_first,
      replicas_[follower_1]->Ctl({"users", "add", "first", "on", ">pw-first", "~*", "+@all"}));
  ASSERT_TRUE(add_first.Succeeded()) << add_first.output;
  for (auto& proxy : proxies_) {
    EXPECT_OK(
        WaitForOk([&] { return CheckAuth(*proxy, "first"); }, kTimeout, absl::Milliseconds(100)));
    ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());
    EXPECT_EQ(client->Command({"SET", "fleet-ha:no-auth", "v"}), Reply::Status("OK"))
        << "the default user needs no password";
  }
  ASSERT_OK(WaitForConvergence(kTimeout).status());

  // 2. Clients on both proxies, a stream of admin updates through the two followers.
  std::vector<std::unique_ptr<BackgroundTraffic>> traffic;
  for (int p = 0; p < 2; ++p) {
    TrafficOptions options;
    options.port = proxies_[p]->port();
    for (int i = 0; i < 200; ++i) options.keys.push_back(absl::StrCat("fleet-ha:", p, ":", i));
    options.keys_per_round = 20;
    options.max_duration = absl::Seconds(400);
    traffic.push_back(std::make_unique<BackgroundTraffic>(options));
    ASSERT_TRUE(traffic.back()->WaitForRounds(10, kTimeout));
  }

  std::atomic<bool> stop_updates{false};
  std::atomic<int> acked{0};
  std::mutex mu;
  std::vector<Update> updates;  // guarded by mu
  const ControlProcess* targets[] = {replicas_[follower_1].get(), replicas_[follower_2].get()};
  std::thread updater([&] {
    for (int i = 0; !stop_updates.load(); ++i) {
      Update update;
      update.is_user = i % 3 != 2;
      update.value = update.is_user ? absl::StrCat("user-", i) : absl::StrCat(5000 + i);
      std::vector<std::string> args =
          update.is_user
              ? std::vector<std::string>{"users", "add",  update.value, "on", ">pw-" + update.value,
                                         "~*",    "+@all"}
              : std::vector<std::string>{"config", "set", "maxclients", update.value};
      absl::StatusOr<CommandResult> result = targets[i % 2]->Ctl(args, absl::Seconds(30));
      update.acked = result.ok() && result->Succeeded();
      if (!update.acked) {
        std::cout << "not acknowledged: " << absl::StrJoin(args, " ") << ": "
                  << (result.ok() ? result->output : result.status().ToString()) << "\n";
      }
      std::lock_guard<std::mutex> lock(mu);
      updates.push_back(update);
      if (update.acked) acked.fetch_add(1);
    }
  });
  auto wait_for_acks = [&](int n) {
    const absl::Time deadline = absl::Now() + kTimeout;
    while (acked.load() < n && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    return acked.load() >= n;
  };

  // 3. The leader dies under the updates and the traffic.
  EXPECT_TRUE(wait_for_acks(5));
  const std::string killed_address = replicas_[leader]->address();
  const absl::Time killed = absl::Now();
  replicas_[leader]->Kill();
  const int new_leader = WaitForOneLeader(kTimeout);
  const absl::Duration takeover = absl::Now() - killed;
  EXPECT_TRUE(new_leader == follower_1 || new_leader == follower_2) << new_leader;
  std::cout << "takeover after the leader's SIGKILL: " << absl::FormatDuration(takeover) << "\n";
  RecordProperty("takeover_ms", static_cast<int>(absl::ToInt64Milliseconds(takeover)));
  EXPECT_LT(takeover, kTakeoverBound);
  EXPECT_TRUE(wait_for_acks(acked.load() + 6)) << "updates go on after the takeover";
  stop_updates = true;
  updater.join();

  // The proxy that was on the killed replica moved; the other one stayed where it was.
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::map<std::string, std::string>> info = FleetInfo(*proxies_[0]);
        if (!info.ok()) return info.status();
        if ((*info)["control_plane_replica"] != killed_address &&
            (*info)["stream_state"] == "connected") {
          return absl::OkStatus();
        }
        return absl::UnavailableError(absl::StrCat("replica ", (*info)["control_plane_replica"],
                                                   ", stream ", (*info)["stream_state"]));
      },
      kTimeout, absl::Milliseconds(100)));

  // The new leader polls: slot 0 moved to another master reaches both proxies' routing.
  ASSERT_OK_AND_ASSIGN(const int source, cluster_->SlotOwner(0));
  const int target = (source + 1) % 3;
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners_before, cluster_->SlotOwners());
  int64_t target_slots = 1;
  for (int owner : owners_before) target_slots += owner == target ? 1 : 0;
  ASSERT_OK(SlotMigration(*cluster_, 0, source, target).Run());
  for (auto& proxy : proxies_) {
    EXPECT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<int64_t> slots = ProxySlotsOf(*proxy, cluster_->port(target));
          if (!slots.ok()) return slots.status();
          if (*slots == target_slots) return absl::OkStatus();
          return absl::UnavailableError(absl::StrCat(ListenAddress(*proxy), " routes ", *slots,
                                                     " slots to the target, want ", target_slots));
        },
        kTimeout, absl::Milliseconds(100)))
        << "the new leader's topology never reached the proxy";
  }
  absl::StatusOr<CommandResult> topology = replicas_[new_leader]->Ctl({"topology"});
  ASSERT_OK(topology);
  EXPECT_TRUE(absl::StrContains(topology->output, absl::StrCat(cluster_->port(target))))
      << topology->output;

  // Both proxies converge on the latest version.
  ASSERT_OK_AND_ASSIGN(const uint64_t version, WaitForConvergence(kTimeout));
  RecordProperty("final_version", static_cast<int>(version));
  ASSERT_OK_AND_ASSIGN(auto proxy_0_after, FleetInfo(*proxies_[0]));
  ASSERT_OK_AND_ASSIGN(auto proxy_1_after, FleetInfo(*proxies_[1]));
  EXPECT_GE(Number(proxy_0_after, "control_plane_switches"), 1u);
  EXPECT_NE(proxy_0_after["control_plane_replica"], killed_address);
  EXPECT_EQ(proxy_1_after["control_plane_replica"], proxy_1_replica);
  EXPECT_EQ(proxy_1_after["control_plane_switches"], "0");
  EXPECT_EQ(proxy_0_after["topology_source"], "control-plane");
  EXPECT_EQ(proxy_1_after["topology_source"], "control-plane");

  // No acknowledged update lost: every acknowledged user on both survivors and both proxies; the
  // option holds the last acknowledged value, or one attempted after it (an update may apply even
  // though its acknowledgement was lost).
  std::vector<std::string> users;
  std::vector<std::string> allowed_maxclients;
  int attempts = 0;
  for (const Update& update : updates) {
    ++attempts;
    if (update.is_user) {
      if (update.acked) users.push_back(update.value);
    } else {
      if (update.acked) allowed_maxclients.clear();
      allowed_maxclients.push_back(update.value);
    }
  }
  std::cout << attempts << " admin updates, " << acked.load() << " acknowledged\n";
  RecordProperty("admin_updates", attempts);
  RecordProperty("admin_updates_acked", acked.load());
  EXPECT_GE(acked.load(), attempts - 2) << "the followers kept acknowledging";
  ASSERT_FALSE(allowed_maxclients.empty());
  for (int survivor : {follower_1, follower_2}) {
    absl::StatusOr<CommandResult> ls = replicas_[survivor]->Ctl({"users", "ls"});
    ASSERT_OK(ls);
    for (const std::string& user : users) {
      EXPECT_TRUE(absl::StrContains(ls->output, user + " "))
          << user << " lost on replica " << survivor << ":\n"
          << ls->output;
    }
    const std::string maxclients = ConfigGet(*replicas_[survivor], "maxclients");
    EXPECT_TRUE(std::find(allowed_maxclients.begin(), allowed_maxclients.end(), maxclients) !=
                allowed_maxclients.end())
        << "maxclients " << maxclients << ", want one of "
        << absl::StrJoin(allowed_maxclients, ",");
  }
  for (auto& proxy : proxies_) {
    for (const std::string& user : users) EXPECT_OK(CheckAuth(*proxy, user));
    ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());
    const Reply maxclients = client->Command({"PROXY", "CONFIG", "GET", "maxclients"});
    ASSERT_EQ(maxclients.type, Reply::Type::kArray) << maxclients.DebugString();
    ASSERT_EQ(maxclients.elements.size(), 2u);
    EXPECT_EQ(maxclients.elements[1].str, ConfigGet(*replicas_[follower_1], "maxclients"));
  }

  // The clients saw no error.
  for (auto& t : traffic) {
    EXPECT_TRUE(t->WaitForRounds(10, kTimeout)) << "clients are still served";
    t->Stop();
    EXPECT_EQ(t->failures(), 0);
    for (const std::string& failure : t->FailureSamples()) ADD_FAILURE() << failure;
  }
  for (auto& proxy : proxies_) EXPECT_TRUE(proxy->IsAlive());
}

}  // namespace
}  // namespace slotplane::integration
