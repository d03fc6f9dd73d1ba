// A proxy given several control-plane replicas moves to another one when its replica dies,
// keeping the version it has: the new replica's first snapshot (same version) is acknowledged,
// not applied again, clients see no error meanwhile, and changes made through the new replica
// reach the proxy.
//
// Two replicas sharing one durable state cannot run at once with the file store (it locks its
// directory), so replica B is the same data directory started on another port after replica A
// was SIGKILLed: the proxy, configured with `A,B`, finds B on its own.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/integration/control_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/test_client.h"
#include "tests/integration/traffic.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = [] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return SharedClusterEnvironment::Register(options);
}();

constexpr absl::Duration kSwitch = absl::Seconds(40);  // B's start-up, on a loaded machine
constexpr char kToken[] = "control-failover-token";

uint64_t Number(const std::map<std::string, std::string>& info, const std::string& field) {
  uint64_t n = 0;
  EXPECT_TRUE(absl::SimpleAtoi(info.at(field), &n)) << field << "=" << info.at(field);
  return n;
}

// The proxy's /metrics page.
absl::StatusOr<std::string> Metrics(uint16_t port) {
  absl::StatusOr<RawConnection> conn = RawConnection::Connect(port);
  if (!conn.ok()) return conn.status();
  IT_RETURN_IF_ERROR(conn->Send("GET /metrics HTTP/1.0\r\n\r\n"));
  absl::StatusOr<ReadResult> read = conn->ReadUntilClosed(absl::Seconds(5));
  if (!read.ok()) return read.status();
  return read->data;
}

class ProxyControlFailoverTest : public SharedClusterTest {};

TEST_F(ProxyControlFailoverTest, MovesToTheNextReplicaKeepingItsVersion) {
  ControlOptions control_options;
  control_options.cluster = cluster().addresses();
  control_options.admin_token = kToken;
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(control_options));
  const std::string replica_a = control->address();
  // Replica B's port, reserved for later; nothing listens there yet.
  ASSERT_OK_AND_ASSIGN(const uint16_t port_b, PickFreePort(/*with_cluster_bus=*/false));
  const std::string replica_b = absl::StrCat("127.0.0.1:", port_b);
  ASSERT_OK_AND_ASSIGN(const uint16_t metrics_port, PickFreePort(/*with_cluster_bus=*/false));

  ProxyOptions proxy_options = FleetProxyOptions(*control, "proxy-ha", "", cluster().addresses());
  ASSERT_EQ(proxy_options.extra_args[0], "--control-plane");
  proxy_options.extra_args[1] = absl::StrCat(replica_a, ",", replica_b);
  proxy_options.extra_args.insert(proxy_options.extra_args.end(),
                                  {"--metrics-port", absl::StrCat(metrics_port)});
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(proxy_options));
  ASSERT_OK(WaitForFleet(*control, {proxy.get()}));

  ASSERT_OK_AND_ASSIGN(auto before, FleetInfo(*proxy));
  EXPECT_EQ(before["control_plane"], absl::StrCat(replica_a, ",", replica_b));
  EXPECT_EQ(before["control_plane_replica"], replica_a) << "B is not running";
  EXPECT_EQ(before["control_plane_switches"], "0");
  const uint64_t version = Number(before, "acked_version");
  const uint64_t applied = Number(before, "snapshots_applied");
  ASSERT_GT(version, 0u);

  TrafficOptions traffic_options;
  traffic_options.port = proxy->port();
  for (int i = 0; i < 200; ++i) traffic_options.keys.push_back(absl::StrCat("ctl-ha:", i));
  traffic_options.keys_per_round = 20;
  traffic_options.max_duration = absl::Seconds(180);
  BackgroundTraffic traffic(traffic_options);
  ASSERT_TRUE(traffic.WaitForRounds(10));

  // Replica A dies; B takes over the same durable state on its own port.
  control->Kill();
  ASSERT_OK(control->RestartOn(port_b));
  const absl::Time b_answers = absl::Now();
  std::map<std::string, std::string> after;
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::map<std::string, std::string>> info = FleetInfo(*proxy);
        if (!info.ok()) return info.status();
        after = *info;
        if (after["control_plane_replica"] == replica_b && after["stream_state"] == "connected" &&
            after["snapshots_unchanged"] != "0") {
          return absl::OkStatus();
        }
        return absl::UnavailableError(absl::StrCat("replica ", after["control_plane_replica"],
                                                   ", stream ", after["stream_state"]));
      },
      kSwitch, absl::Milliseconds(100)));
  // From B answering slotplanectl to the proxy's stream on B (the proxy's backoff after rounds
  // of failures while no replica ran, plus one poll interval).
  RecordProperty("switch_after_b_answers_ms",
                 static_cast<int>(absl::ToInt64Milliseconds(absl::Now() - b_answers)));
  ASSERT_TRUE(traffic.WaitForRounds(20)) << "clients are served after the switch";

  // The same version, acknowledged to B without being applied again.
  EXPECT_EQ(after["control_plane_switches"], "1");
  EXPECT_EQ(Number(after, "acked_version"), version);
  EXPECT_EQ(Number(after, "policy_version"), version);
  EXPECT_EQ(Number(after, "snapshots_applied"), applied) << "no snapshot applied twice";
  EXPECT_EQ(Number(after, "snapshots_unchanged"), 1u);
  EXPECT_EQ(after["topology_source"], "control-plane");
  // B counts the proxy as converged on its version (the ACK reached it).
  ASSERT_OK(WaitForFleet(*control, {proxy.get()}));
  ASSERT_OK_AND_ASSIGN(FleetListing listing, ListFleet(*control));
  EXPECT_EQ(listing.current_version, version);
  ASSERT_OK_AND_ASSIGN(const std::string metrics, Metrics(metrics_port));
  for (const std::string& line :
       {std::string("slotplane_proxy_control_plane_switches_total 1"),
        std::string("slotplane_proxy_control_snapshots_unchanged_total 1"),
        absl::StrCat("slotplane_proxy_control_snapshots_applied_total ", applied)}) {
    EXPECT_TRUE(absl::StrContains(metrics, line)) << line << "\n" << metrics;
  }

  // A change through B (slotplanectl) reaches the proxy.
  ASSERT_OK_AND_ASSIGN(CommandResult set,
                       control->Ctl({"config", "set", "enable-cross-slot", "yes"}));
  ASSERT_TRUE(set.Succeeded()) << set.output;
  EXPECT_OK(WaitForOption(*proxy, "enable-cross-slot", "yes"));
  // And one through the proxy: its admin calls go to B, the stream's replica.
  ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "SET", "max-redirects", "7"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(auto last, FleetInfo(*proxy));
  EXPECT_GT(Number(last, "policy_version"), version);
  EXPECT_EQ(Number(last, "snapshots_applied"), applied + 2);

  traffic.Stop();
  EXPECT_EQ(traffic.failures(), 0);
  for (const std::string& failure : traffic.FailureSamples()) ADD_FAILURE() << failure;
  EXPECT_TRUE(proxy->IsAlive());
}

// Both replicas away, then the first one back: after whole rounds of failures with backoff the
// proxy finds it again, and a single replica listed twice is one candidate.
TEST_F(ProxyControlFailoverTest, ComesBackAfterEveryReplicaWasAway) {
  ControlOptions control_options;
  control_options.cluster = cluster().addresses();
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(control_options));
  ASSERT_OK_AND_ASSIGN(const uint16_t port_b, PickFreePort(/*with_cluster_bus=*/false));
  ProxyOptions proxy_options = FleetProxyOptions(*control, "proxy-ha-2", "", cluster().addresses());
  proxy_options.extra_args[1] =
      absl::StrCat(control->address(), ",127.0.0.1:", port_b, ",", control->address());
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(proxy_options));
  ASSERT_OK(WaitForFleet(*control, {proxy.get()}));
  ASSERT_OK_AND_ASSIGN(auto before, FleetInfo(*proxy));
  const uint64_t version = Number(before, "acked_version");

  control->Kill();
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::map<std::string, std::string>> info = FleetInfo(*proxy);
        if (!info.ok()) return info.status();
        return Number(*info, "stream_reconnects") >= 4 ? absl::OkStatus()
                                                       : absl::UnavailableError("reconnecting");
      },
      kSwitch, absl::Milliseconds(100)));
  ASSERT_OK(control->Restart());
  ASSERT_OK(WaitForFleet(*control, {proxy.get()}, kSwitch));
  ASSERT_OK_AND_ASSIGN(auto after, FleetInfo(*proxy));
  EXPECT_EQ(after["control_plane_replica"], control->address());
  EXPECT_EQ(after["control_plane_switches"], "0") << "back on the same replica";
  EXPECT_EQ(Number(after, "acked_version"), version);
  EXPECT_EQ(after["snapshots_unchanged"], "1");
  EXPECT_OK(proxy->Connect().status());
}

}  // namespace
}  // namespace slotplane::integration
