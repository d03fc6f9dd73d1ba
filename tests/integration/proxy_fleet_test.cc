// A fleet: two slotplane-proxy processes on one slotplane-control, over real gRPC, in front of a
// real cluster. A change made once (slotplanectl, or PROXY CONFIG SET on either proxy) reaches
// both proxies and is acknowledged; client users come from the policy; the proxies keep serving
// while the control plane is away and converge when it is back; a restarted control plane keeps
// policy and version; a proxy starts from its snapshot cache when the control plane is down.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/control_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/traffic.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = [] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return SharedClusterEnvironment::Register(options);
}();

constexpr absl::Duration kConverge = absl::Seconds(20);
constexpr char kToken[] = "fleet-test-token";

Reply ConfigPair(const std::string& name, const std::string& value) {
  return Reply::Array({Reply::String(name), Reply::String(value)});
}

class ProxyFleetTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    ControlOptions control_options;
    control_options.cluster = cluster().addresses();
    control_options.admin_token = kToken;
    ASSERT_OK_AND_ASSIGN(control_, ControlProcess::Start(control_options));
    absl::StatusOr<TempDir> dir = TempDir::Create("slotplane-fleet");
    ASSERT_OK(dir);
    dir_.emplace(*std::move(dir));
    for (int i = 0; i < 2; ++i) {
      ASSERT_OK_AND_ASSIGN(auto proxy, StartProxy(absl::StrCat("proxy-", i), /*seeds=*/true));
      proxies_.push_back(std::move(proxy));
    }
    ASSERT_OK(WaitForFleet(2));
  }

  void TearDown() override {
    proxies_.clear();
    control_.reset();
    SharedClusterTest::TearDown();
  }

  absl::StatusOr<std::unique_ptr<ProxyProcess>> StartProxy(const std::string& name, bool seeds) {
    return ProxyProcess::Start(
        FleetProxyOptions(*control_, name, dir_->File(name + ".snapshot"),
                          seeds ? cluster().addresses() : std::vector<NodeAddress>()));
  }

  std::unique_ptr<TestClient> Connect(const ProxyProcess& proxy,
                                      const ClientOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  absl::StatusOr<std::map<std::string, std::string>> Fleet(const ProxyProcess& proxy) {
    return FleetInfo(proxy);
  }

  absl::Status WaitForFleet(size_t count) {
    std::vector<ProxyProcess*> proxies;
    for (const auto& proxy : proxies_) proxies.push_back(proxy.get());
    if (proxies.size() != count) return absl::InternalError("the test lost track of its proxies");
    return integration::WaitForFleet(*control_, proxies, kConverge);
  }

  uint64_t CurrentVersion() {
    absl::StatusOr<FleetListing> listing = ListFleet(*control_);
    EXPECT_TRUE(listing.ok()) << listing.status();
    return listing.ok() ? listing->current_version : 0;
  }

  std::unique_ptr<ControlProcess> control_;
  std::optional<TempDir> dir_;  // snapshot caches
  std::vector<std::unique_ptr<ProxyProcess>> proxies_;
};

TEST_F(ProxyFleetTest, SlotplanectlConfigSetReachesBothProxiesAndIsAcked) {
  for (const auto& proxy : proxies_) {
    std::unique_ptr<TestClient> client = Connect(*proxy);
    EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "enable-cross-slot"}),
              ConfigPair("enable-cross-slot", "no"));
  }
  ASSERT_OK_AND_ASSIGN(CommandResult set,
                       control_->Ctl({"config", "set", "enable-cross-slot", "yes"}));
  ASSERT_TRUE(set.Succeeded()) << set.output;
  const absl::Time start = absl::Now();
  for (const auto& proxy : proxies_) {
    EXPECT_OK(WaitForOption(*proxy, "enable-cross-slot", "yes"));
  }
  std::cerr << "both proxies saw the change after " << absl::Now() - start << "\n";
  ASSERT_OK(WaitForFleet(2));
  ASSERT_OK_AND_ASSIGN(FleetListing listing, ListFleet(*control_));
  for (const auto& proxy : proxies_) {
    ASSERT_TRUE(listing.proxies.count(ListenAddress(*proxy))) << ListenAddress(*proxy);
    EXPECT_EQ(listing.proxies[ListenAddress(*proxy)].acked_version, listing.current_version);
    ASSERT_OK_AND_ASSIGN(auto fleet, Fleet(*proxy));
    EXPECT_EQ(fleet["acked_version"], absl::StrCat(listing.current_version));
    EXPECT_EQ(fleet["policy_version"], absl::StrCat(listing.current_version));
    EXPECT_EQ(fleet["topology_source"], "control-plane");
  }
}

TEST_F(ProxyFleetTest, ProxyConfigSetOnOneProxyReachesTheOther) {
  std::unique_ptr<TestClient> client = Connect(*proxies_[0]);
  const uint64_t before = CurrentVersion();
  // The reply comes once the control plane accepted the change and this proxy applied it.
  EXPECT_EQ(
      client->Command({"PROXY", "CONFIG", "SET", "max-redirects", "7", "tryagain-retries", "3"}),
      Reply::Status("OK"));
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "max-redirects"}),
            ConfigPair("max-redirects", "7"));
  ASSERT_OK_AND_ASSIGN(auto fleet, Fleet(*proxies_[0]));
  uint64_t applied = 0;
  ASSERT_TRUE(absl::SimpleAtoi(fleet["policy_version"], &applied));
  EXPECT_GT(applied, before);
  EXPECT_OK(WaitForOption(*proxies_[1], "max-redirects", "7"));
  EXPECT_OK(WaitForOption(*proxies_[1], "tryagain-retries", "3"));
  ASSERT_OK_AND_ASSIGN(CommandResult get, control_->Ctl({"config", "get", "max-redirects"}));
  EXPECT_EQ(get.output, "7\n");
  ASSERT_OK(WaitForFleet(2));

  // Refusals: per-process options, bad values (the control plane's own validation), users.
  EXPECT_TRUE(absl::StrContains(client->Command({"PROXY", "CONFIG", "SET", "threads", "3"}).str,
                                "per proxy process"));
  EXPECT_TRUE(absl::StrContains(
      client->Command({"PROXY", "CONFIG", "SET", "max-redirects", "0"}).str, "'max-redirects'"));
  EXPECT_TRUE(absl::StrContains(client->Command({"PROXY", "CONFIG", "SET", "requirepass", "x"}).str,
                                "slotplanectl users"));
  EXPECT_EQ(CurrentVersion(), applied) << "refused changes make no version";
}

TEST_F(ProxyFleetTest, ClientUsersComeFromThePolicy) {
  ASSERT_OK_AND_ASSIGN(CommandResult add,
                       control_->Ctl({"users", "add", "alice", "--password", "alice-pw"}));
  ASSERT_TRUE(add.Succeeded()) << add.output;
  const Reply noauth = Reply::Error("NOAUTH Authentication required.");
  for (const auto& proxy : proxies_) {
    ASSERT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::unique_ptr<TestClient>> client = proxy->Connect();
          if (!client.ok()) return client.status();
          const Reply reply = (*client)->Command({"GET", "users:k"});
          return reply == noauth ? absl::OkStatus() : absl::UnavailableError(reply.DebugString());
        },
        kConverge));
    std::unique_ptr<TestClient> client = Connect(*proxy);
    EXPECT_EQ(client->Command({"AUTH", "alice", "wrong"}),
              Reply::Error("WRONGPASS invalid username-password pair or user is disabled."));
    EXPECT_EQ(client->Command({"AUTH", "alice", "alice-pw"}), Reply::Status("OK"));
    EXPECT_EQ(client->Command({"SET", "users:k", "v"}), Reply::Status("OK"));
    std::unique_ptr<TestClient> hello = Connect(*proxy);
    EXPECT_EQ(hello->Command({"HELLO", "2", "AUTH", "alice", "alice-pw"}).type,
              Reply::Type::kArray);
  }
  // Connections authenticated as alice: disabling her keeps them (as in Redis), removing her
  // closes them (as Redis's ACL DELUSER does).
  std::vector<std::unique_ptr<TestClient>> sessions;
  for (const auto& proxy : proxies_) {
    sessions.push_back(Connect(*proxy));
    ASSERT_EQ(sessions.back()->Command({"AUTH", "alice", "alice-pw"}), Reply::Status("OK"));
  }
  ASSERT_OK_AND_ASSIGN(CommandResult disable,
                       control_->Ctl({"users", "set", "alice", "--disable"}));
  ASSERT_TRUE(disable.Succeeded()) << disable.output;
  EXPECT_OK(WaitForOk(
      [&]() -> absl::Status {
        std::unique_ptr<TestClient> client = Connect(*proxies_[1]);
        const Reply reply = client->Command({"AUTH", "alice", "alice-pw"});
        return reply.IsError() ? absl::OkStatus() : absl::UnavailableError(reply.DebugString());
      },
      kConverge));
  for (auto& session : sessions) {
    EXPECT_EQ(session->Command({"GET", "users:k"}), Reply::String("v"));
  }
  ASSERT_OK_AND_ASSIGN(CommandResult rm, control_->Ctl({"users", "rm", "alice"}));
  ASSERT_TRUE(rm.Succeeded()) << rm.output;
  for (auto& session : sessions) {
    EXPECT_OK(WaitForOk(
        [&]() -> absl::Status {
          const Reply reply = session->Command({"PING"});
          return reply.type == Reply::Type::kTransportError
                     ? absl::OkStatus()
                     : absl::UnavailableError(reply.DebugString());
        },
        kConverge))
        << "the connection of a removed user is closed";
  }
  for (const auto& proxy : proxies_) {
    EXPECT_OK(WaitForOk(
        [&]() -> absl::Status {
          std::unique_ptr<TestClient> client = Connect(*proxy);
          const Reply reply = client->Command({"GET", "users:k"});
          return reply == Reply::String("v") ? absl::OkStatus()
                                             : absl::UnavailableError(reply.DebugString());
        },
        kConverge))
        << "no users: no password needed again";
  }
}

// ACL rules through slotplanectl: refused with Redis's words at the control plane, enforced by
// every proxy; a proxy's own `requirepass` stays the default user's password once the fleet has
// users that do not define `default`.
TEST_F(ProxyFleetTest, UserRulesComeFromThePolicyAndRequirepassStays) {
  ASSERT_OK_AND_ASSIGN(CommandResult bad,
                       control_->Ctl({"users", "add", "eve", "--nopass", "+nosuchcommand"}));
  EXPECT_FALSE(bad.Succeeded()) << bad.output;
  EXPECT_TRUE(absl::StrContains(bad.output,
                                "Error in ACL SETUSER modifier '+nosuchcommand': "
                                "Unknown command or category name in ACL"))
      << bad.output;
  ProxyOptions local = FleetProxyOptions(*control_, "proxy-local", dir_->File("local.snapshot"),
                                         cluster().addresses());
  local.extra_args.insert(local.extra_args.end(), {"--requirepass", "local-pw"});
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> own, ProxyProcess::Start(local));

  ASSERT_OK_AND_ASSIGN(CommandResult add,
                       control_->Ctl({"users", "add", "reader", "on", ">reader-pw", "+@read",
                                      "+@connection", "~rules:*"}));
  ASSERT_TRUE(add.Succeeded()) << add.output;
  ASSERT_OK_AND_ASSIGN(CommandResult ls, control_->Ctl({"users", "ls"}));
  EXPECT_TRUE(absl::StrContains(ls.output, "~rules:*")) << ls.output;
  const Reply denied_key = Reply::Error(
      "NOPERM this user has no permissions to access one of the keys used as "
      "arguments");
  std::vector<ProxyProcess*> all = {proxies_[0].get(), proxies_[1].get(), own.get()};
  for (ProxyProcess* proxy : all) {
    ASSERT_OK(WaitForOk(
        [&]() -> absl::Status {
          std::unique_ptr<TestClient> client = Connect(*proxy);
          const Reply reply = client->Command({"AUTH", "reader", "reader-pw"});
          return reply == Reply::Status("OK") ? absl::OkStatus()
                                              : absl::UnavailableError(reply.DebugString());
        },
        kConverge));
    std::unique_ptr<TestClient> client = Connect(*proxy);
    ASSERT_EQ(client->Command({"AUTH", "reader", "reader-pw"}), Reply::Status("OK"));
    EXPECT_EQ(client->Command({"GET", "rules:k"}), Reply::Nil());
    EXPECT_EQ(client->Command({"GET", "other"}), denied_key);
    EXPECT_EQ(client->Command({"SET", "rules:k", "v"}),
              Reply::Error("NOPERM this user has no permissions to run the 'set' command"));
    const Reply info = client->Command({"CLIENT", "INFO"});
    EXPECT_TRUE(absl::StrContains(info.str, " user=reader ")) << info;
  }
  std::unique_ptr<TestClient> by_requirepass = Connect(*own);
  EXPECT_EQ(by_requirepass->Command({"AUTH", "local-pw"}), Reply::Status("OK"))
      << "requirepass is the default user's password, users or not";
  EXPECT_EQ(by_requirepass->Command({"SET", "rules:k", "v"}), Reply::Status("OK"));
  EXPECT_EQ(Connect(*proxies_[0])->Command({"AUTH", "local-pw"}).type, Reply::Type::kError)
      << "the other proxies have no requirepass: once the fleet has users, no default user";

  // A change of rules reaches connections already authenticated.
  std::unique_ptr<TestClient> session = Connect(*proxies_[1]);
  ASSERT_EQ(session->Command({"AUTH", "reader", "reader-pw"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(CommandResult widen,
                       control_->Ctl({"users", "set", "reader", "+@all", "allkeys"}));
  ASSERT_TRUE(widen.Succeeded()) << widen.output;
  EXPECT_OK(WaitForOk(
      [&]() -> absl::Status {
        const Reply reply = session->Command({"SET", "rules:k", "v"});
        return reply == Reply::Status("OK") ? absl::OkStatus()
                                            : absl::UnavailableError(reply.DebugString());
      },
      kConverge));
}

TEST_F(ProxyFleetTest, ControlPlaneKilledWhileClientsRunThenRestarted) {
  ASSERT_OK_AND_ASSIGN(CommandResult set,
                       control_->Ctl({"config", "set", "enable-cross-slot", "yes"}));
  ASSERT_TRUE(set.Succeeded()) << set.output;
  ASSERT_OK(WaitForFleet(2));
  const uint64_t version = CurrentVersion();
  std::vector<std::unique_ptr<BackgroundTraffic>> traffic;
  for (size_t i = 0; i < proxies_.size(); ++i) {
    TrafficOptions options;
    options.port = proxies_[i]->port();
    for (int k = 0; k < 300; ++k) options.keys.push_back(absl::StrCat("fleet-kill:", i, ":", k));
    options.keys_per_round = 30;
    options.max_duration = absl::Seconds(120);
    traffic.push_back(std::make_unique<BackgroundTraffic>(options));
  }
  for (auto& t : traffic) ASSERT_TRUE(t->WaitForRounds(10));

  control_->Kill();
  for (const auto& proxy : proxies_) {
    EXPECT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::map<std::string, std::string>> fleet = Fleet(*proxy);
          if (!fleet.ok()) return fleet.status();
          return (*fleet)["stream_state"] != "connected"
                     ? absl::OkStatus()
                     : absl::UnavailableError("still connected");
        },
        kConverge));
  }
  // Clients notice nothing while the control plane is away.
  for (auto& t : traffic) ASSERT_TRUE(t->WaitForRounds(30));
  std::unique_ptr<TestClient> client = Connect(*proxies_[0]);
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "enable-cross-slot"}),
            ConfigPair("enable-cross-slot", "yes"));
  EXPECT_TRUE(
      absl::StrContains(client->Command({"PROXY", "CONFIG", "SET", "max-redirects", "6"}).str,
                        "not connected to the control plane"));

  ASSERT_OK(control_->Restart());
  ASSERT_OK(WaitForFleet(2));
  EXPECT_EQ(CurrentVersion(), version) << "the restarted control plane kept its version";
  ASSERT_OK_AND_ASSIGN(CommandResult get, control_->Ctl({"config", "get", "enable-cross-slot"}));
  EXPECT_EQ(get.output, "yes\n") << "and its policy";
  for (auto& t : traffic) ASSERT_TRUE(t->WaitForRounds(10));
  for (auto& t : traffic) {
    t->Stop();
    EXPECT_EQ(t->failures(), 0);
    for (const std::string& failure : t->FailureSamples()) ADD_FAILURE() << failure;
  }
  for (const auto& proxy : proxies_) {
    ASSERT_OK_AND_ASSIGN(auto fleet, Fleet(*proxy));
    EXPECT_EQ(fleet["acked_version"], absl::StrCat(version));
    EXPECT_NE(fleet["stream_reconnects"], "0");
  }
}

TEST_F(ProxyFleetTest, ProxyStartsFromItsCacheWhenTheControlPlaneIsDown) {
  ASSERT_OK_AND_ASSIGN(CommandResult set,
                       control_->Ctl({"config", "set", "enable-cross-slot", "yes"}));
  ASSERT_TRUE(set.Succeeded()) << set.output;
  ASSERT_OK(WaitForFleet(2));
  const uint64_t version = CurrentVersion();
  ASSERT_OK(proxies_[1]->Stop());  // its cache now holds `version`
  proxies_.pop_back();
  ASSERT_OK(control_->Stop());

  // No --cluster: the topology can only come from the cache.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> restarted,
                       StartProxy("proxy-1", /*seeds=*/false));
  ASSERT_OK_AND_ASSIGN(auto fleet, Fleet(*restarted));
  EXPECT_EQ(fleet["policy_version"], absl::StrCat(version));
  EXPECT_EQ(fleet["cached_version"], absl::StrCat(version));
  EXPECT_NE(fleet["stream_state"], "connected");
  std::unique_ptr<TestClient> client = Connect(*restarted);
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "enable-cross-slot"}),
            ConfigPair("enable-cross-slot", "yes"));
  EXPECT_EQ(client->Command({"SET", "cache:b", "2"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"GET", "cache:b"}), Reply::String("2"));
  ASSERT_OK_AND_ASSIGN(fleet, Fleet(*restarted));
  EXPECT_NE(fleet["topology_source"], "none");

  ASSERT_OK(control_->Restart());
  proxies_.push_back(std::move(restarted));
  ASSERT_OK(WaitForFleet(2));
}

TEST_F(ProxyFleetTest, AProxyWithoutTheProxyTokenGetsNothing) {
  // The admin token is not a proxy credential.
  ProxyOptions options = FleetProxyOptions(*control_, "impostor", "", cluster().addresses());
  for (std::string& arg : options.extra_args) {
    if (arg == control_->proxy_token_file()) arg = control_->token_file();
  }
  ASSERT_OK_AND_ASSIGN(auto impostor, ProxyProcess::Start(options));
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        auto fleet = Fleet(*impostor);
        if (!fleet.ok()) return fleet.status();
        return absl::StrContains((*fleet)["last_stream_error"], "wrong proxy token")
                   ? absl::OkStatus()
                   : absl::NotFoundError((*fleet)["last_stream_error"]);
      },
      kConverge));
  ASSERT_OK_AND_ASSIGN(auto fleet, Fleet(*impostor));
  EXPECT_NE(fleet["stream_state"], "connected");
  EXPECT_EQ(fleet["policy_version"], "0") << "no snapshot";
  EXPECT_EQ(fleet["topology_source"], "cluster") << "found the cluster on its own";
  ASSERT_OK_AND_ASSIGN(FleetListing listing, ListFleet(*control_));
  EXPECT_EQ(listing.proxies.count(ListenAddress(*impostor)), 0u) << "not listed as a proxy";
  EXPECT_EQ(listing.proxies.size(), 2u);
  EXPECT_TRUE(absl::StrContains(impostor->LogText(),
                                "check control-plane-proxy-token-file or SLOTPLANE_PROXY_TOKEN"));
}

TEST_F(ProxyFleetTest, FleetClusterUpdateAndEverySubcommandInAnyOrder) {
  std::unique_ptr<TestClient> client = Connect(*proxies_[0]);
  const Reply fleet = client->Command({"PROXY", "FLEET"});
  ASSERT_EQ(fleet.type, Reply::Type::kArray) << fleet;
  ASSERT_EQ(fleet.elements.size(), 2u);
  int self = 0;
  for (const Reply& member : fleet.elements) {
    ASSERT_EQ(member.elements.size(), 26u) << member;
    EXPECT_EQ(member.elements[0], Reply::String("proxy-id"));
    self += static_cast<int>(member.elements[25].integer);
  }
  EXPECT_EQ(self, 1) << "exactly one entry is the proxy that answered";
  EXPECT_EQ(client->Command({"PROXY", "CLUSTER", "UPDATE"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"PROXY", "CLUSTER", "STATUS"}), Reply::Status("ok"));

  const std::vector<std::vector<std::string>> all = {
      {"PROXY", "PING"},
      {"PROXY", "HELP"},
      {"PROXY", "INFO"},
      {"PROXY", "INFO", "fleet"},
      {"PROXY", "CONFIG", "GET", "*"},
      {"PROXY", "CONFIG", "SET", "max-redirects", "5"},
      {"PROXY", "CONFIG", "SET", "max-redirects", "0"},
      {"PROXY", "CONFIG", "SET", "bind", "0.0.0.0"},
      {"PROXY", "CLIENT", "ID"},
      {"PROXY", "CLIENT", "THREAD"},
      {"PROXY", "CLUSTER"},
      {"PROXY", "CLUSTER", "INFO"},
      {"PROXY", "CLUSTER", "STATUS"},
      {"PROXY", "CLUSTER", "CONNECTION"},
      {"PROXY", "CLUSTER", "NODES"},
      {"PROXY", "CLUSTER", "UPDATE"},
      {"PROXY", "COMMAND"},
      {"PROXY", "MULTIPLEXING", "STATUS"},
      {"PROXY", "FLEET"},
      {"PROXY", "LOG", "fleet order test"},
      {"PROXY", "NOSUCH"},
  };
  std::mt19937 random(7);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::vector<std::string>> order = all;
    std::shuffle(order.begin(), order.end(), random);
    for (const auto& command : order) client->Append(command);
    for (size_t i = 0; i < order.size(); ++i) {
      const Reply reply = client->GetReply();
      ASSERT_NE(reply.type, Reply::Type::kTransportError) << "round " << round;
    }
  }
  for (const auto& proxy : proxies_) EXPECT_TRUE(proxy->IsAlive());
  EXPECT_EQ(client->Command({"SET", "order:k", "v"}), Reply::Status("OK"));
  ASSERT_OK(WaitForFleet(2));
}

TEST_F(ProxyFleetTest, MetricsShowTheStream) {
  ASSERT_OK_AND_ASSIGN(const uint16_t metrics_port, PickFreePort(/*with_cluster_bus=*/false));
  ProxyOptions options = FleetProxyOptions(*control_, "with-metrics", "", cluster().addresses());
  options.extra_args.insert(options.extra_args.end(),
                            {"--metrics-port", absl::StrCat(metrics_port)});
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(options));
  const uint64_t version = CurrentVersion();
  std::string metrics;
  EXPECT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<RawConnection> conn = RawConnection::Connect(metrics_port);
        if (!conn.ok()) return conn.status();
        IT_RETURN_IF_ERROR(conn->Send("GET /metrics HTTP/1.0\r\n\r\n"));
        absl::StatusOr<ReadResult> read = conn->ReadUntilClosed(absl::Seconds(5));
        if (!read.ok()) return read.status();
        metrics = read->data;
        for (const std::string& line :
             {std::string("slotplane_proxy_control_stream_state{state=\"connected\"} 1"),
              absl::StrCat("slotplane_proxy_control_acked_version ", version),
              absl::StrCat("slotplane_proxy_policy_version ", version),
              std::string("slotplane_proxy_control_snapshots_applied_total "),
              std::string("slotplane_proxy_control_snapshots_nacked_total 0")}) {
          if (!absl::StrContains(metrics, line)) {
            return absl::UnavailableError(absl::StrCat("no line '", line, "'"));
          }
        }
        return absl::OkStatus();
      },
      kConverge, absl::Milliseconds(100)))
      << metrics;
}

// A MOVED a proxy follows is reported at once: the control plane refreshes the topology long
// before its next poll, and every proxy gets the new version.
TEST_F(ProxyFleetTest, MovedReportsRefreshTheTopologyAtOnce) {
  ControlOptions slow_poll;
  slow_poll.cluster = cluster().addresses();
  slow_poll.poll_interval_ms = 600000;
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(slow_poll));
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(FleetProxyOptions(*control, "moved", "",
                                                                         cluster().addresses())));
  ASSERT_OK(integration::WaitForFleet(*control, {proxy.get()}, kConverge));
  ASSERT_OK_AND_ASSIGN(FleetListing before, ListFleet(*control));

  const uint16_t slot = 4242;
  const std::string key = KeyInSlot(slot, "moved");
  ASSERT_OK_AND_ASSIGN(const int source, cluster().SlotOwner(slot));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  const int target = masters[0] != source ? masters[0] : masters[1];
  ASSERT_OK(SlotMigration(cluster(), slot, source, target).Run());

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  EXPECT_EQ(client->Command({"SET", key, "v"}), Reply::Status("OK")) << "MOVED followed";
  EXPECT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<FleetListing> listing = ListFleet(*control);
        if (!listing.ok()) return listing.status();
        const FleetEntry& entry = listing->proxies[ListenAddress(*proxy)];
        if (listing->current_version > before.current_version &&
            entry.acked_version == listing->current_version) {
          return absl::OkStatus();
        }
        return absl::UnavailableError(absl::StrCat("version ", listing->current_version));
      },
      kConverge, absl::Milliseconds(100)));
  ASSERT_OK_AND_ASSIGN(auto info, FleetInfo(*proxy));
  EXPECT_NE(info["moved_reports"], "0");
  // Give the slot back, so that the shared cluster looks as it did.
  ASSERT_OK(SlotMigration(cluster(), slot, target, source).Run());
}

}  // namespace
}  // namespace slotplane::integration
