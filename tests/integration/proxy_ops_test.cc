// slotplane-proxy's operations surface against a real cluster: GET /healthz and /readyz on the
// metrics port following the topology (a slot without a master makes the proxy unready; its
// return makes it ready again), the latency histogram and per-command counters in a scrape, the
// per-node error, redirect and reconnect counters and the clients by user,
// SIGHUP (log file reopened, process alive), SIGTERM's drain (idle clients closed, listeners
// closed, an in-flight request answered before exit 0), and --check-config / --version of both
// daemons.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/slot.h"
#include "tests/integration/child_process.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);

// The raw HTTP/1.0 response to GET `path`, or the error.
absl::StatusOr<std::string> HttpGet(uint16_t port, const std::string& path) {
  absl::StatusOr<RawConnection> conn = RawConnection::Connect(port);
  if (!conn.ok()) return conn.status();
  IT_RETURN_IF_ERROR(conn->Send("GET " + path + " HTTP/1.0\r\n\r\n"));
  absl::StatusOr<ReadResult> read = conn->ReadUntilClosed(absl::Seconds(5));
  if (!read.ok()) return read.status();
  return read->data;
}

// OK once GET `path` answers and its response contains every one of `wanted`.
absl::Status ResponseHas(uint16_t port, const std::string& path,
                         const std::vector<std::string>& wanted) {
  absl::StatusOr<std::string> response = HttpGet(port, path);
  if (!response.ok()) return response.status();
  for (const std::string& w : wanted) {
    if (!absl::StrContains(*response, w)) {
      return absl::NotFoundError(absl::StrCat(path, " has no '", w, "':\n", *response));
    }
  }
  return absl::OkStatus();
}

// The value of the sample `series` (name and labels, as written: `a{b="c"}`) in a scrape, or -1
// when it has none.
double SampleValue(const std::string& scrape, const std::string& series) {
  const std::string line_start = "\n" + series + " ";
  const size_t at = scrape.find(line_start);
  if (at == std::string::npos) return -1;
  return std::strtod(scrape.c_str() + at + line_start.size(), nullptr);
}

// Scrapes until `series` is at least `minimum`; OK then, else the last scrape in the error.
absl::Status WaitForSample(uint16_t port, const std::string& series, double minimum) {
  std::string last;
  const absl::Status status = WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::string> scrape = HttpGet(port, "/metrics");
        if (!scrape.ok()) return scrape.status();
        last = *scrape;
        if (SampleValue(last, series) >= minimum) return absl::OkStatus();
        return absl::NotFoundError(absl::StrCat(series, " below ", minimum));
      },
      kTimeout);
  if (status.ok()) return status;
  return absl::NotFoundError(absl::StrCat(status.message(), ":\n", last));
}

// How a run of a slotplane binary ended: its exit code (-1: it did not exit normally) and its
// output (stdout and stderr).
struct BinaryRun {
  int code = -1;
  std::string output;
};

BinaryRun RunBinary(const std::string& binary, const std::vector<std::string>& args) {
  BinaryRun run;
  absl::StatusOr<TempDir> dir = TempDir::Create("run-binary");
  if (!dir.ok()) return run;
  std::vector<std::string> argv = {absl::StrCat(SLOTPLANE_BIN_DIR, "/", binary)};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<CommandResult> result = RunCommand(argv, dir->path(), kTimeout);
  if (!result.ok()) {
    run.output = std::string(result.status().message());
    return run;
  }
  run.output = result->output;
  if (WIFEXITED(result->wait_status)) run.code = WEXITSTATUS(result->wait_status);
  return run;
}

class ProxyOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RedisClusterOptions options;
    options.masters = 3;
    options.replicas_per_master = 0;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
    ASSERT_OK_AND_ASSIGN(metrics_port_, PickFreePort(/*with_cluster_bus=*/false));
  }

  ProxyOptions Options(std::vector<std::string> extra = {}) const {
    ProxyOptions options;
    options.seeds = cluster_->addresses();
    options.extra_args = {"--metrics-port", absl::StrCat(metrics_port_),
                          "--topology-refresh-interval", "100"};
    options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
    return options;
  }

  // CLUSTER `subcommand` `slot` on every node (a slot's assignment is each node's own view).
  void OnEveryNode(const std::string& subcommand, int slot) {
    for (int node = 0; node < cluster_->node_count(); ++node) {
      ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect(node));
      EXPECT_EQ(client->Command({"CLUSTER", subcommand, absl::StrCat(slot)}), Reply::Status("OK"))
          << "node " << node;
    }
  }

  std::unique_ptr<RedisCluster> cluster_;
  uint16_t metrics_port_ = 0;
};

TEST_F(ProxyOpsTest, ReadyzFollowsTheTopology) {
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(Options()));
  EXPECT_OK(WaitForOk(
      [&] {
        return ResponseHas(metrics_port_, "/readyz", {"200 OK", "ready"});
      },
      kTimeout));
  EXPECT_OK(ResponseHas(metrics_port_, "/healthz", {"200 OK", "ok"}));

  // Slot 0 loses its master everywhere: the proxy's next refresh sees 16383 slots.
  ASSERT_OK_AND_ASSIGN(const int owner, cluster_->SlotOwner(0));
  OnEveryNode("DELSLOTS", 0);
  EXPECT_OK(WaitForOk(
      [&] {
        return ResponseHas(metrics_port_, "/readyz",
                           {" 503 ", "not ready: the topology covers 16383 of 16384 hash slots"});
      },
      kTimeout));
  EXPECT_OK(ResponseHas(metrics_port_, "/healthz", {"200 OK"})) << "still alive";
  EXPECT_OK(
      ResponseHas(metrics_port_, "/metrics",
                  {"slotplane_proxy_cluster_slots_covered 16383", "slotplane_proxy_ready 0"}));

  // Its master claims it again; gossip spreads the claim and the proxy turns ready.
  ASSERT_OK_AND_ASSIGN(auto client, cluster_->Connect(owner));
  EXPECT_EQ(client->Command({"CLUSTER", "ADDSLOTS", "0"}), Reply::Status("OK"));
  EXPECT_OK(WaitForOk([&] { return ResponseHas(metrics_port_, "/readyz", {"200 OK"}); }, kTimeout));
  EXPECT_OK(ResponseHas(metrics_port_, "/metrics", {"slotplane_proxy_ready 1"}));
}

TEST_F(ProxyOpsTest, ScrapeHasLatencyByClassAndCommandsByOutcome) {
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(Options()));
  ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());
  EXPECT_EQ(client->Command({"SET", "ops:k", "v"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"GET", "ops:k"}), Reply::String("v"));
  EXPECT_EQ(client->Command({"GET", "ops:k"}), Reply::String("v"));
  EXPECT_EQ(client->Command({"INCR", "ops:k"}).type, Reply::Type::kError);
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
  EXPECT_EQ(client->Command({"DBSIZE"}), Reply::Integer(1));
  EXPECT_EQ(client->Command({"NOSUCHCOMMAND"}).type, Reply::Type::kError);
  EXPECT_OK(ResponseHas(
      metrics_port_, "/metrics",
      {"# TYPE slotplane_proxy_command_duration_seconds histogram",
       "slotplane_proxy_command_duration_seconds_count{class=\"read\"} 2",
       "slotplane_proxy_command_duration_seconds_count{class=\"write\"} 2",
       // The fixture's PINGs count too.
       "slotplane_proxy_command_duration_seconds_count{class=\"local\"} ",
       "slotplane_proxy_commands_total{command=\"ping\",outcome=\"ok\"} ",
       "slotplane_proxy_command_duration_seconds_count{class=\"fan_out\"} 1",
       "slotplane_proxy_command_duration_seconds_bucket{class=\"read\",le=\"+Inf\"} 2",
       "slotplane_proxy_command_duration_seconds_count{class=\"blocking\"} 0",
       "slotplane_proxy_commands_total{command=\"get\",outcome=\"ok\"} 2",
       "slotplane_proxy_commands_total{command=\"get\",outcome=\"error\"} 0",
       "slotplane_proxy_commands_total{command=\"incr\",outcome=\"error\"} 1",
       "slotplane_proxy_commands_total{command=\"set\",outcome=\"ok\"} 1",
       "slotplane_proxy_errors_total{kind=\"unknown_command\"} 1", "process_open_fds ",
       // The default engine is epoll: no receive ring.
       "slotplane_proxy_io_uring_recv_ring_bytes 0", "slotplane_proxy_io_uring_recv_bytes_total 0",
       "process_resident_memory_bytes ", "slotplane_proxy_build_info{revision=\""}));
  // The unknown command has no series of its own: the label set is the command table.
  absl::StatusOr<std::string> metrics = HttpGet(metrics_port_, "/metrics");
  ASSERT_OK(metrics);
  EXPECT_FALSE(absl::StrContains(*metrics, "nosuchcommand")) << *metrics;
  // The key's master, per node: a connection up, none backing off.
  ASSERT_OK_AND_ASSIGN(const int owner, cluster_->SlotOwner(KeyHashSlot("ops:k")));
  const std::string node = absl::StrCat("{node=\"", cluster_->address(owner).ToString(), "\"} ");
  EXPECT_TRUE(absl::StrContains(*metrics, "slotplane_proxy_backend_node_down" + node + "0\n"))
      << *metrics;
  EXPECT_TRUE(absl::StrContains(*metrics, "slotplane_proxy_backend_node_in_flight" + node))
      << *metrics;
  const size_t at = metrics->find("slotplane_proxy_backend_node_connections" + node);
  ASSERT_NE(at, std::string::npos) << *metrics;
  const char after =
      (*metrics)[at + std::string("slotplane_proxy_backend_node_connections").size() + node.size()];
  EXPECT_TRUE(after == '1' || after == '2') << "connections up from 1 or 2 workers: " << *metrics;
}

// Per node: an error reply, an ASK during a slot migration, the MOVED after it and a connection
// the node closed are counted against that node; clients show under the user they authenticated
// as, users beyond the label limit under "other", names the policy does not know nowhere.
TEST_F(ProxyOpsTest, ScrapeCountsPerNodeAndClientsByUser) {
  ProxyOptions options;
  options.seeds = cluster_->addresses();
  // No periodic refresh in the test's time: the MOVED after the migration reaches the proxy.
  options.extra_args = {"--metrics-port",
                        absl::StrCat(metrics_port_),
                        "--topology-refresh-interval",
                        "600000",
                        "--user",
                        "default on nopass allcommands allkeys allchannels",
                        "--user",
                        "alice on >alice-secret allcommands allkeys allchannels"};
  // 105 more users: with default and alice, more than the 100 that get a label of their own.
  for (int i = 0; i < 105; ++i) {
    options.extra_args.push_back("--user");
    options.extra_args.push_back(absl::StrFormat("u%03d on nopass allcommands allkeys", i));
  }
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());

  // An error reply from the key's master.
  const std::string key = "ops:node";
  const uint16_t slot = KeyHashSlot(key);
  ASSERT_OK_AND_ASSIGN(const int owner, cluster_->SlotOwner(slot));
  const std::string owner_node = cluster_->address(owner).ToString();
  const auto series = [](const std::string& name, const std::string& node,
                         const std::string& kind) {
    return absl::StrCat("slotplane_proxy_backend_node_", name, "{node=\"", node, "\"",
                        kind.empty() ? "" : absl::StrCat(",kind=\"", kind, "\""), "}");
  };
  EXPECT_EQ(client->Command({"SET", key, "v"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"INCR", key}).type, Reply::Type::kError);
  EXPECT_OK(WaitForSample(metrics_port_, series("errors_total", owner_node, "reply"), 1));

  // The slot migrates to another master: a key the source no longer has is answered ASK.
  const int target = (owner + 1) % cluster_->node_count();
  const std::string target_node = cluster_->address(target).ToString();
  SlotMigration migration(*cluster_, slot, owner, target);
  ASSERT_OK(migration.Begin());
  const std::string missing = KeyInSlot(slot, "ops:missing");
  EXPECT_EQ(client->Command({"GET", missing}), Reply::Nil());
  EXPECT_OK(WaitForSample(metrics_port_, series("redirects_total", owner_node, "ask"), 1));
  ASSERT_OK_AND_ASSIGN(const int moved, migration.MoveKeys(100));
  EXPECT_EQ(moved, 1);
  ASSERT_OK(migration.Finish());
  // The proxy still routes the slot to the source, which answers MOVED.
  EXPECT_EQ(client->Command({"GET", key}), Reply::String("v"));
  EXPECT_OK(WaitForSample(metrics_port_, series("redirects_total", owner_node, "moved"), 1));
  {
    ASSERT_OK_AND_ASSIGN(std::string scrape, HttpGet(metrics_port_, "/metrics"));
    EXPECT_EQ(SampleValue(scrape, series("redirects_total", target_node, "moved")), 0) << scrape;
    EXPECT_EQ(SampleValue(scrape, series("reconnects_total", target_node, "")), 0) << scrape;
    EXPECT_EQ(SampleValue(scrape, series("errors_total", target_node, "connection")), 0) << scrape;
  }

  // The slot's new master closes the proxy's connections: counted as a connection error, and
  // the next command reconnects.
  {
    ASSERT_OK_AND_ASSIGN(auto node, cluster_->Connect(target));
    const Reply killed = node->Command({"CLIENT", "KILL", "TYPE", "normal"});
    ASSERT_EQ(killed.type, Reply::Type::kInteger) << killed;
    EXPECT_GE(killed.integer, 1);
  }
  EXPECT_OK(WaitForSample(metrics_port_, series("errors_total", target_node, "connection"), 1));
  EXPECT_EQ(client->Command({"GET", key}), Reply::String("v"));
  EXPECT_OK(WaitForSample(metrics_port_, series("reconnects_total", target_node, ""), 1));

  // Clients by user: alice, u104 (beyond the label limit: "other"), the default user; a name
  // the policy does not have, tried by a client, shows nowhere, nor does a password.
  ASSERT_OK_AND_ASSIGN(auto alice, proxy->Connect());
  EXPECT_EQ(alice->Command({"AUTH", "alice", "alice-secret"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(auto late, proxy->Connect());
  EXPECT_EQ(late->Command({"AUTH", "u104", "any"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(auto early, proxy->Connect());
  EXPECT_EQ(early->Command({"AUTH", "u000", "any"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(auto stranger, proxy->Connect());
  EXPECT_EQ(stranger->Command({"AUTH", "mallory", "pw"}).type, Reply::Type::kError);
  const std::string by_user = "slotplane_proxy_connected_clients_by_user";
  EXPECT_OK(WaitForSample(metrics_port_, by_user + "{user=\"alice\"}", 1));
  ASSERT_OK_AND_ASSIGN(std::string scrape, HttpGet(metrics_port_, "/metrics"));
  EXPECT_EQ(SampleValue(scrape, by_user + "{user=\"alice\"}"), 1) << scrape;
  EXPECT_EQ(SampleValue(scrape, by_user + "{user=\"u000\"}"), 1) << scrape;
  EXPECT_EQ(SampleValue(scrape, by_user + "{user=\"other\"}"), 1) << scrape;
  // client and stranger (not authenticated: the default user), at least.
  EXPECT_GE(SampleValue(scrape, by_user + "{user=\"default\"}"), 2) << scrape;
  EXPECT_EQ(SampleValue(scrape, by_user + "{user=\"u104\"}"), -1) << scrape;
  EXPECT_FALSE(absl::StrContains(scrape, "mallory")) << scrape;
  EXPECT_FALSE(absl::StrContains(scrape, "secret")) << scrape;
  // A client leaves: its user's count goes down.
  alice.reset();
  EXPECT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::string> now = HttpGet(metrics_port_, "/metrics");
        if (!now.ok()) return now.status();
        const double value = SampleValue(*now, by_user + "{user=\"alice\"}");
        return value <= 0 ? absl::OkStatus() : absl::UnavailableError("alice still counted");
      },
      kTimeout));
}

TEST_F(ProxyOpsTest, SighupReopensTheLogFileAndKeepsServing) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("proxy-ops-log"));
  const std::string logfile = dir.path() + "/proxy.log";
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(Options({"--logfile", logfile})));
  ASSERT_TRUE(absl::StrContains(ReadFileOrEmpty(logfile), "ready on port"));
  // logrotate: rename, then SIGHUP.
  ASSERT_EQ(std::rename(logfile.c_str(), (logfile + ".1").c_str()), 0);
  ASSERT_EQ(kill(proxy->pid(), SIGHUP), 0);
  EXPECT_TRUE(WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(logfile), "SIGHUP: log file reopened"); },
      kTimeout))
      << "new file:\n"
      << ReadFileOrEmpty(logfile);
  EXPECT_TRUE(proxy->IsAlive());
  ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
  ASSERT_OK(proxy->Stop());  // exit code 0
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(logfile), "shutting down"))
      << "later lines go to the new file:\n"
      << ReadFileOrEmpty(logfile);
  EXPECT_FALSE(absl::StrContains(ReadFileOrEmpty(logfile + ".1"), "shutting down"));
}

TEST_F(ProxyOpsTest, SigtermDrainsInFlightRequestsThenExits) {
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(Options({"--shutdown-timeout", "30"})));
  EXPECT_OK(WaitForOk([&] { return ResponseHas(metrics_port_, "/readyz", {"200 OK"}); }, kTimeout));
  // A client with a request in flight (blocked until we push), and an idle one.
  ASSERT_OK_AND_ASSIGN(RawConnection busy, RawConnection::Connect(proxy->port()));
  ASSERT_OK_AND_ASSIGN(RawConnection idle, RawConnection::Connect(proxy->port()));
  ASSERT_OK(busy.Send(EncodeCommand({"BLPOP", "ops:drain", "0"})));
  ASSERT_OK(idle.Send(EncodeCommand({"PING"})));
  ASSERT_OK_AND_ASSIGN(ReadResult pong, idle.ReadReplies(1, kTimeout));
  EXPECT_EQ(pong.data, "+PONG\r\n");
  ASSERT_OK_AND_ASSIGN(auto blocked_client, proxy->Connect());
  EXPECT_TRUE(WaitFor(
      [&] {
        return blocked_client->Command({"PROXY", "INFO"}).str.find("blocking_commands:1") !=
               std::string::npos;
      },
      kTimeout))
      << "the BLPOP reached its node";
  blocked_client.reset();

  ASSERT_EQ(kill(proxy->pid(), SIGTERM), 0);
  // The idle client is closed at once, new connections are refused, the busy one waits.
  ASSERT_OK_AND_ASSIGN(ReadResult idle_end, idle.ReadUntilClosed(kTimeout));
  EXPECT_TRUE(idle_end.closed);
  EXPECT_TRUE(WaitFor([&] { return !RawConnection::Connect(proxy->port()).ok(); }, kTimeout))
      << "the listeners are closed";
  EXPECT_TRUE(proxy->IsAlive()) << "still draining the BLPOP";

  // The BLPOP's answer arrives: the client gets it, then the proxy closes it and exits 0.
  ASSERT_OK_AND_ASSIGN(const int owner, cluster_->SlotOwner(KeyHashSlot("ops:drain")));
  ASSERT_OK_AND_ASSIGN(auto node, cluster_->Connect(owner));
  EXPECT_EQ(node->Command({"LPUSH", "ops:drain", "x"}), Reply::Integer(1));
  ASSERT_OK_AND_ASSIGN(ReadResult answer, busy.ReadUntilClosed(kTimeout));
  EXPECT_EQ(answer.data, "*2\r\n$9\r\nops:drain\r\n$1\r\nx\r\n");
  EXPECT_TRUE(answer.closed);
  ASSERT_OK(proxy->Stop());  // exit code 0
  EXPECT_TRUE(absl::StrContains(proxy->LogText(), "drained: every client finished"))
      << proxy->LogText();
}

TEST(CheckConfigTest, ProxyChecksOptionsAndFilesWithoutStarting) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("check-config"));
  const std::string conf = dir.path() + "/proxy.conf";
  {
    std::FILE* f = std::fopen(conf.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("port 7777\ncluster 127.0.0.1:1\nmetrics-port 9777\n", f);
    std::fclose(f);
  }
  BinaryRun ok = RunBinary("slotplane-proxy", {"--check-config", "-c", conf});
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_EQ(ok.output, "slotplane-proxy: configuration OK\n");

  BinaryRun bad = RunBinary("slotplane-proxy", {"-c", conf, "--check-config", "--port", "x"});
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_TRUE(absl::StrContains(bad.output,
                                "configuration refused: invalid value 'x' for option "
                                "'port'"))
      << bad.output;

  BinaryRun missing =
      RunBinary("slotplane-proxy", {"--check-config", "--control-plane", "127.0.0.1:1",
                                    "--control-plane-token-file", dir.path() + "/no-such-token"});
  EXPECT_EQ(missing.code, 1) << missing.output;
  EXPECT_TRUE(absl::StrContains(missing.output, "no-such-token")) << missing.output;

  BinaryRun none = RunBinary("slotplane-proxy", {"--check-config"});
  EXPECT_EQ(none.code, 1) << none.output;
  EXPECT_TRUE(absl::StrContains(none.output, "no cluster entry point")) << none.output;
}

TEST(CheckConfigTest, ControlPlaneChecksOptionsAndFiles) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("check-config"));
  const std::string proxy_token = dir.path() + "/proxy.token";
  {
    std::FILE* f = std::fopen(proxy_token.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("sample-proxy-token\n", f);
    std::fclose(f);
  }
  BinaryRun ok =
      RunBinary("slotplane-control", {"--check-config", "--cluster", "127.0.0.1:1", "--data-dir",
                                      dir.path() + "/store", "--proxy-token-file", proxy_token});
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_EQ(ok.output, "slotplane-control: configuration OK\n");

  // The watch stream carries the fleet's secrets: without a proxy credential Start() refuses,
  // and so does --check-config.
  BinaryRun open = RunBinary("slotplane-control", {"--check-config", "--cluster", "127.0.0.1:1",
                                                   "--data-dir", dir.path() + "/store"});
  EXPECT_EQ(open.code, 1) << open.output;
  EXPECT_TRUE(absl::StrContains(open.output, "needs a proxy credential")) << open.output;

  BinaryRun token = RunBinary(
      "slotplane-control", {"--check-config", "--cluster", "127.0.0.1:1", "--data-dir", dir.path(),
                            "--admin-token-file", dir.path() + "/no-such-token"});
  EXPECT_EQ(token.code, 1) << token.output;
  EXPECT_TRUE(absl::StrContains(token.output, "no-such-token")) << token.output;

  BinaryRun tls = RunBinary("slotplane-control",
                            {"--check-config", "--cluster", "127.0.0.1:1", "--data-dir", dir.path(),
                             "--tls-cert", "/etc/hostname", "--tls-key", "/etc/hostname"});
  EXPECT_EQ(tls.code, 1) << tls.output;
  EXPECT_TRUE(absl::StrContains(tls.output, "is not a PEM file")) << tls.output;
}

TEST(VersionTest, NamesTheGitRevision) {
  for (const char* binary : {"slotplane-proxy", "slotplane-control", "slotplanectl"}) {
    BinaryRun version = RunBinary(binary, {"--version"});
    EXPECT_EQ(version.code, 0) << binary;
    EXPECT_TRUE(absl::StartsWith(version.output, absl::StrCat(binary, " ")) &&
                absl::StrContains(version.output, " (git "))
        << version.output;
  }
}

}  // namespace
}  // namespace slotplane::integration
