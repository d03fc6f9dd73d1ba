// slotplane-control's topology polling against a real Redis Cluster: the poller keeps one
// connection per node instead of connecting for every poll (the nodes' own
// total_connections_received is the witness), polling goes on after the node it holds a
// connection to restarts, and `slotplanectl topology` shows a failed node with its state, rows
// ordered by slot.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/integration/control_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_client.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(60);  // generous for a loaded 2-core machine

// The value of `field` ("name:value" lines, as INFO and /metrics have them) in `text`.
absl::StatusOr<int64_t> Field(const std::string& text, absl::string_view field,
                              absl::string_view separator) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, field) || !absl::ConsumePrefix(&line, separator)) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return static_cast<int64_t>(value);
  }
  return absl::NotFoundError(absl::StrCat(field, " not in:\n", text));
}

class ControlPollingTest : public ::testing::Test {
 protected:
  // A cluster, a persistent client to each node (so that reading INFO opens nothing new) and a
  // control plane polling every 100 ms with its metrics on.
  void Start(const RedisClusterOptions& cluster_options) {
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(cluster_options));
    clients_.resize(cluster_->node_count());
    for (int node = 0; node < cluster_->node_count(); ++node) {
      ASSERT_OK_AND_ASSIGN(clients_[node], cluster_->Connect(node));
    }
    ASSERT_OK_AND_ASSIGN(metrics_port_, PickFreePort(false));
    ControlOptions options;
    options.cluster = cluster_->addresses();
    options.poll_interval_ms = 100;
    options.extra_args = {"--metrics-port", absl::StrCat(metrics_port_)};
    ASSERT_OK_AND_ASSIGN(control_, ControlProcess::Start(options));
  }

  void TearDown() override {
    if (HasFailure() && control_ != nullptr) control_->PrintLog(60);
  }

  absl::StatusOr<int64_t> Metric(absl::string_view name) {
    absl::StatusOr<RawConnection> conn = RawConnection::Connect(metrics_port_);
    if (!conn.ok()) return conn.status();
    if (absl::Status s = conn->Send("GET /metrics HTTP/1.0\r\n\r\n"); !s.ok()) return s;
    auto reply = conn->ReadUntilClosed(absl::Seconds(10));
    if (!reply.ok()) return reply.status();
    return Field(reply->data, name, " ");
  }

  // Waits until the control plane has run `polls` more discoveries than now.
  void WaitForPolls(int polls) {
    absl::StatusOr<int64_t> start = Metric("slotplane_control_topology_refreshes_total");
    ASSERT_OK(start.status());
    ASSERT_OK(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<int64_t> now = Metric("slotplane_control_topology_refreshes_total");
          if (!now.ok()) return now.status();
          if (*now >= *start + polls) return absl::OkStatus();
          return absl::UnavailableError(absl::StrCat(*now - *start, " polls so far"));
        },
        kTimeout, absl::Milliseconds(50)));
  }

  // Client connections every node has accepted so far (INFO stats, on the persistent clients).
  int64_t ConnectionsReceived() {
    int64_t total = 0;
    for (int node = 0; node < cluster_->node_count(); ++node) {
      const Reply info = clients_[node]->Command({"INFO", "stats"});
      absl::StatusOr<int64_t> n = Field(info.str, "total_connections_received", ":");
      EXPECT_TRUE(n.ok()) << "node " << node << ": " << n.status();
      total += n.value_or(0);
    }
    return total;
  }

  // The nodes with a client whose last command was CLUSTER … (the poller's connections).
  std::vector<int> NodesPolledOnAKeptConnection() {
    std::vector<int> nodes;
    for (int node = 0; node < cluster_->node_count(); ++node) {
      const Reply list = clients_[node]->Command({"CLIENT", "LIST"});
      if (absl::StrContains(list.str, "cmd=cluster")) nodes.push_back(node);
    }
    return nodes;
  }

  // The number of new connections the nodes accepted during `polls` polls.
  int64_t NewConnectionsDuring(int polls) {
    const int64_t before = ConnectionsReceived();
    WaitForPolls(polls);
    return ConnectionsReceived() - before;
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::vector<std::unique_ptr<TestClient>> clients_;
  uint16_t metrics_port_ = 0;
  std::unique_ptr<ControlProcess> control_;
};

TEST_F(ControlPollingTest, OneKeptConnectionPerNodeAcrossPollsAndAfterARestart) {
  RedisClusterOptions options;
  options.replicas_per_master = 0;  // a restarted master keeps its slots: no failover
  ASSERT_NO_FATAL_FAILURE(Start(options));
  ASSERT_NO_FATAL_FAILURE(WaitForPolls(3));

  // 20 polls open no connection (a reconnect after an I/O timeout on a loaded machine is
  // tolerated; one connection per poll would be 20).
  constexpr int kPolls = 20;
  int64_t opened = NewConnectionsDuring(kPolls);
  RecordProperty("new_connections_during_20_polls", static_cast<int>(opened));
  EXPECT_LE(opened, 2) << "new connections to the nodes during " << kPolls << " polls";
  const std::vector<int> polled = NodesPolledOnAKeptConnection();
  // The poller asks the first node that answers; it holds a connection to each node it asked.
  ASSERT_FALSE(polled.empty()) << "no node shows the poller's kept connection";

  // The node the poller holds a connection to restarts: the kept connection fails, the poller
  // reconnects, and polling goes on without a failed discovery showing.
  const int victim = polled[0];
  const int64_t errors_before = *Metric("slotplane_control_topology_refresh_errors_total");
  ASSERT_OK(cluster_->KillNode(victim));
  ASSERT_OK(cluster_->RestartNode(victim));
  ASSERT_OK_AND_ASSIGN(clients_[victim], cluster_->Connect(victim));
  ASSERT_OK(cluster_->WaitUntilStable(kTimeout));
  ASSERT_NO_FATAL_FAILURE(WaitForPolls(5));
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<CommandResult> status = control_->Ctl({"--json", "status"});
        if (!status.ok()) return status.status();
        if (absl::StrContains(status->output, "\"last_error\":\"\"")) return absl::OkStatus();
        return absl::UnavailableError(status->output);
      },
      kTimeout));
  // Discoveries that ran while the node was down may have failed over to another node; none
  // fails once it is back.
  const int64_t errors_after = *Metric("slotplane_control_topology_refresh_errors_total");
  opened = NewConnectionsDuring(kPolls);
  RecordProperty("new_connections_during_20_polls_after_restart", static_cast<int>(opened));
  EXPECT_LE(opened, 2) << "after the restart: new connections during " << kPolls << " polls";
  EXPECT_EQ(*Metric("slotplane_control_topology_refresh_errors_total"), errors_after)
      << "polls after the restart succeed";
  EXPECT_GE(errors_after, errors_before);
  EXPECT_FALSE(NodesPolledOnAKeptConnection().empty());
}

TEST_F(ControlPollingTest, TopologyShowsAFailedNodeWithItsStateOrderedBySlot) {
  RedisClusterOptions options;
  options.node_timeout = absl::Milliseconds(1000);
  ASSERT_NO_FATAL_FAILURE(Start(options));
  ASSERT_OK_AND_ASSIGN(std::vector<int> masters, cluster_->Masters());
  ASSERT_OK_AND_ASSIGN(std::vector<int> replicas, cluster_->ReplicasOf(masters[0]));
  ASSERT_EQ(replicas.size(), 1u);
  const std::string failed = cluster_->address(replicas[0]).ToString();
  ASSERT_OK(cluster_->KillNode(replicas[0]));

  std::string table;
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<CommandResult> result = control_->Ctl({"topology"});
        if (!result.ok()) return result.status();
        table = result->output;
        for (absl::string_view line : absl::StrSplit(table, '\n')) {
          if (absl::StrContains(line, failed) && absl::StrContains(line, " failed ")) {
            return absl::OkStatus();
          }
        }
        return absl::UnavailableError(table);
      },
      kTimeout));
  // One row per node (3 masters, 3 replicas) after the header line and the table's header; the
  // master rows' first slots ascend, each followed by its replica.
  std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u + 6u) << table;
  EXPECT_TRUE(absl::StartsWith(lines[1], "SLOTS")) << table;
  int64_t last_first_slot = -1;
  for (size_t i = 2; i < lines.size(); ++i) {
    const std::vector<std::string> words = absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    ASSERT_GE(words.size(), 4u) << lines[i];
    if (words[0] == "replica") {
      EXPECT_TRUE(words[2] == "online" || words[2] == "failed") << lines[i];
      continue;
    }
    ASSERT_EQ(words[1], "master") << lines[i];
    EXPECT_EQ(words[3], "online") << lines[i];
    const std::vector<std::string> ranges = absl::StrSplit(words[0], absl::ByAnyChar("-,"));
    int64_t first_slot = 0;
    ASSERT_TRUE(absl::SimpleAtoi(ranges[0], &first_slot)) << lines[i];
    EXPECT_GT(first_slot, last_first_slot) << table;
    last_first_slot = first_slot;
  }
  EXPECT_GT(last_first_slot, 0) << table;
}

}  // namespace
}  // namespace slotplane::integration
