// SLOWLOG and LATENCY through slotplane-proxy answer for the whole cluster: every node's slow log
// and latency events merged, each row tagged with its node (scatter/reducers.h), and LEN/RESET
// over every node; LATENCY DOCTOR/GRAPH a section per node, LATENCY HISTOGRAM the nodes' sums
// (scatter/latency_reducers.h). Its own binary: the slow log settings it changes would disturb
// other tests.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

class ProxySlowlogTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(client_, proxy().Connect());
  }

  void TearDown() override {
    // Back to Redis's defaults on every node.
    if (client_ != nullptr) {
      EXPECT_EQ(client_->Command({"CONFIG", "SET", "slowlog-log-slower-than", "10000"}),
                Reply::Status("OK"));
      EXPECT_EQ(client_->Command({"CONFIG", "SET", "latency-monitor-threshold", "0"}),
                Reply::Status("OK"));
      EXPECT_EQ(client_->Command({"CONFIG", "SET", "slowlog-max-len", "128"}), Reply::Status("OK"));
    }
    SharedClusterTest::TearDown();
  }

  // `argv` on every node, masters and replicas, straight to the node.
  std::vector<Reply> OnAllNodes(const Command& argv) {
    std::vector<Reply> replies;
    for (int node = 0; node < cluster().node_count(); ++node) {
      absl::StatusOr<std::unique_ptr<TestClient>> client = cluster().Connect(node);
      EXPECT_TRUE(client.ok()) << client.status();
      if (client.ok()) replies.push_back((*client)->Command(argv));
    }
    return replies;
  }

  std::set<std::string> MasterAddresses() {
    std::set<std::string> addresses;
    absl::StatusOr<std::vector<int>> masters = cluster().Masters();
    EXPECT_TRUE(masters.ok()) << masters.status();
    for (int node : masters.value_or(std::vector<int>{})) {
      addresses.insert(cluster().address(node).ToString());
    }
    return addresses;
  }

  std::set<std::string> AllAddresses() {
    std::set<std::string> addresses;
    for (int node = 0; node < cluster().node_count(); ++node) {
      addresses.insert(cluster().address(node).ToString());
    }
    return addresses;
  }

  long long SumOfNodes(const Command& argv) {
    long long sum = 0;
    for (const Reply& r : OnAllNodes(argv)) {
      EXPECT_EQ(r.type, Reply::Type::kInteger) << r;
      sum += r.integer;
    }
    return sum;
  }

  std::unique_ptr<TestClient> client_;
};

TEST_F(ProxySlowlogTest, SlowlogMergesEveryNodeNewestFirstTagged) {
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "slowlog-max-len", "1024"}), Reply::Status("OK"));
  ASSERT_EQ(client_->Command({"SLOWLOG", "RESET"}), Reply::Status("OK"));
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "slowlog-log-slower-than", "0"}),
            Reply::Status("OK"));
  // 200 keys: every master owns some of them (a master missing has odds of about 1e-35).
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(client_->Command({"SET", absl::StrCat("slow:", i), "v"}), Reply::Status("OK"));
  }
  // Stop logging on every node (this CONFIG SET itself is not logged: it runs under the new
  // threshold), so that neither the proxy's own polling nor a replica still applying the SETs
  // adds entries while the counts are compared.
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "slowlog-log-slower-than", "-1"}),
            Reply::Status("OK"));

  const long long total = SumOfNodes({"SLOWLOG", "LEN"});
  EXPECT_GE(total, 200);
  EXPECT_EQ(client_->Command({"SLOWLOG", "LEN"}), Reply::Integer(total));

  const Reply all = client_->Command({"SLOWLOG", "GET", "-1"});
  ASSERT_EQ(all.type, Reply::Type::kArray) << all;
  EXPECT_EQ(static_cast<long long>(all.elements.size()), total);
  const std::set<std::string> nodes = AllAddresses();
  std::set<std::string> nodes_with_set;
  long long previous_time = -1;
  for (const Reply& entry : all.elements) {
    ASSERT_EQ(entry.type, Reply::Type::kArray) << entry;
    ASSERT_EQ(entry.elements.size(), 6u) << entry;  // Redis's shape, for clients that parse it
    ASSERT_EQ(entry.elements[1].type, Reply::Type::kInteger) << entry;
    const long long time = entry.elements[1].integer;
    if (previous_time >= 0) {
      EXPECT_LE(time, previous_time) << "not newest first: " << all;
    }
    previous_time = time;
    const std::string& node = entry.elements[5].str;  // the client-name field carries the node
    EXPECT_TRUE(nodes.count(node)) << "tag " << node << " is no node of the cluster";
    const Reply& args = entry.elements[3];
    ASSERT_EQ(args.type, Reply::Type::kArray) << entry;
    if (args.elements.size() == 3 && absl::EqualsIgnoreCase(args.elements[0].str, "set") &&
        args.elements[1].str.rfind("slow:", 0) == 0) {
      nodes_with_set.insert(node);
    }
  }
  // Every master ran some of the SETs; the replicas logged them too as they applied the
  // replication stream (the 5th field there is the master's address), and are read as well.
  const std::set<std::string> masters = MasterAddresses();
  EXPECT_TRUE(
      std::includes(nodes_with_set.begin(), nodes_with_set.end(), masters.begin(), masters.end()))
      << all;
  EXPECT_GT(nodes_with_set.size(), masters.size()) << "no replica's entries: " << all;

  // The count cuts the merged list: the newest entries of the whole cluster.
  const Reply three = client_->Command({"SLOWLOG", "GET", "3"});
  ASSERT_EQ(three.type, Reply::Type::kArray) << three;
  ASSERT_EQ(three.elements.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(three.elements[i], all.elements[i]);
  const Reply by_default = client_->Command({"SLOWLOG", "GET"});
  ASSERT_EQ(by_default.type, Reply::Type::kArray) << by_default;
  EXPECT_EQ(by_default.elements.size(), 10u);  // Redis's default count
  EXPECT_EQ(client_->Command({"SLOWLOG", "GET", "-2"}),
            Reply::Error("ERR count should be greater than or equal to -1"));

  EXPECT_EQ(client_->Command({"SLOWLOG", "RESET"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"SLOWLOG", "LEN"}), Reply::Integer(0));
  EXPECT_EQ(SumOfNodes({"SLOWLOG", "LEN"}), 0);
  EXPECT_EQ(client_->Command({"SLOWLOG", "GET"}), Reply::Array({}));
}

TEST_F(ProxySlowlogTest, LatencyLatestHistoryAndResetCoverEveryNode) {
  ASSERT_EQ(client_->Command({"LATENCY", "RESET"}).type, Reply::Type::kInteger);
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "latency-monitor-threshold", "1"}),
            Reply::Status("OK"));
  // A script that runs for a few milliseconds on each master records a "command" event there.
  const std::string busy = "local i = 0 while i < 1000000 do i = i + 1 end return 1";
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(client_->Command({"EVAL", busy, "1", absl::StrCat("lat:", i)}), Reply::Integer(1));
  }
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "latency-monitor-threshold", "0"}),
            Reply::Status("OK"));

  const Reply latest = client_->Command({"LATENCY", "LATEST"});
  ASSERT_EQ(latest.type, Reply::Type::kArray) << latest;
  size_t node_rows = 0;
  for (const Reply& r : OnAllNodes({"LATENCY", "LATEST"})) node_rows += r.elements.size();
  EXPECT_EQ(latest.elements.size(), node_rows);
  std::set<std::string> command_nodes;
  for (const Reply& row : latest.elements) {
    ASSERT_EQ(row.elements.size(), 4u) << row;  // Redis's shape: event, time, latest, max
    const std::string& event = row.elements[0].str;
    const size_t at = event.find('@');
    ASSERT_NE(at, std::string::npos) << event;
    if (event.substr(0, at) == "command") command_nodes.insert(event.substr(at + 1));
  }
  // Every master ran the script; a replica may have had a slow command of its own too.
  const std::set<std::string> masters = MasterAddresses();
  EXPECT_TRUE(
      std::includes(command_nodes.begin(), command_nodes.end(), masters.begin(), masters.end()))
      << latest;

  const Reply history = client_->Command({"LATENCY", "HISTORY", "command"});
  ASSERT_EQ(history.type, Reply::Type::kArray) << history;
  std::set<std::string> history_nodes;
  long long previous_time = -1;
  for (const Reply& sample : history.elements) {
    ASSERT_EQ(sample.elements.size(), 3u) << sample;  // time, latency, node
    EXPECT_GE(sample.elements[0].integer, previous_time) << "not oldest first: " << history;
    previous_time = sample.elements[0].integer;
    history_nodes.insert(sample.elements[2].str);
  }
  EXPECT_TRUE(
      std::includes(history_nodes.begin(), history_nodes.end(), masters.begin(), masters.end()))
      << history;

  // RESET answers the number of event series reset, summed over the nodes.
  EXPECT_EQ(client_->Command({"LATENCY", "RESET"}),
            Reply::Integer(static_cast<long long>(node_rows)));
  EXPECT_EQ(client_->Command({"LATENCY", "LATEST"}), Reply::Array({}));
  for (const Reply& r : OnAllNodes({"LATENCY", "LATEST"})) EXPECT_EQ(r, Reply::Array({}));
}

// `text` has a section "=== node <address> ===" for each of `addresses`; the sections' bodies by
// address.
std::map<std::string, std::string> NodeSections(const std::string& text) {
  std::map<std::string, std::string> sections;
  const std::string header = "=== node ";
  size_t at = text.find(header);
  while (at != std::string::npos) {
    const size_t name_end = text.find(" ===\n", at);
    if (name_end == std::string::npos) break;
    const std::string node = text.substr(at + header.size(), name_end - at - header.size());
    const size_t body = name_end + 5;
    const size_t next = text.find(header, body);
    sections[node] = text.substr(body, next == std::string::npos ? std::string::npos : next - body);
    at = next;
  }
  return sections;
}

// LATENCY HISTOGRAM's calls of `command` in `reply` (Redis's flat array), or -1 when absent;
// `last_count` gets the last bucket's cumulative count.
long long HistogramCalls(const Reply& reply, const std::string& command, long long* last_count) {
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    if (reply.elements[i].str != command) continue;
    const Reply& entry = reply.elements[i + 1];
    if (entry.elements.size() != 4) return -1;
    const Reply& buckets = entry.elements[3];
    *last_count = buckets.elements.empty() ? 0 : buckets.elements.back().integer;
    return entry.elements[1].integer;
  }
  return -1;
}

TEST_F(ProxySlowlogTest, LatencyDoctorGraphAndHistogramCoverEveryNode) {
  ASSERT_EQ(client_->Command({"LATENCY", "RESET"}).type, Reply::Type::kInteger);
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "latency-monitor-threshold", "1"}),
            Reply::Status("OK"));
  const std::string busy = "local i = 0 while i < 1000000 do i = i + 1 end return 1";
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(client_->Command({"EVAL", busy, "1", absl::StrCat("doc:", i)}), Reply::Integer(1));
  }
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "latency-monitor-threshold", "0"}),
            Reply::Status("OK"));
  const std::set<std::string> nodes = AllAddresses();
  const std::set<std::string> masters = MasterAddresses();

  // DOCTOR: one bulk string, a section per node; the masters' report the "command" spikes.
  const Reply doctor = client_->Command({"LATENCY", "DOCTOR"});
  ASSERT_EQ(doctor.type, Reply::Type::kString) << doctor;
  const std::map<std::string, std::string> doctor_sections = NodeSections(doctor.str);
  EXPECT_EQ(doctor_sections.size(), nodes.size()) << doctor.str;
  for (const std::string& node : nodes) {
    ASSERT_TRUE(doctor_sections.count(node)) << node << " missing:\n" << doctor.str;
    EXPECT_TRUE(absl::StrContains(doctor_sections.at(node), "Dave")) << doctor.str;
  }
  for (const std::string& master : masters) {
    EXPECT_TRUE(absl::StrContains(doctor_sections.at(master), "command: ")) << doctor.str;
  }

  // GRAPH command: the masters' graphs; a node without samples says so in its section.
  const Reply graph = client_->Command({"LATENCY", "GRAPH", "command"});
  ASSERT_EQ(graph.type, Reply::Type::kString) << graph;
  const std::map<std::string, std::string> graph_sections = NodeSections(graph.str);
  EXPECT_EQ(graph_sections.size(), nodes.size()) << graph.str;
  for (const std::string& master : masters) {
    ASSERT_TRUE(graph_sections.count(master)) << graph.str;
    EXPECT_TRUE(absl::StrContains(graph_sections.at(master), "command - high ")) << graph.str;
  }
  // No node has samples of an unknown event: the error, as from one node.
  EXPECT_EQ(client_->Command({"LATENCY", "GRAPH", "nosuchevent"}),
            Reply::Error("ERR No samples available for event 'nosuchevent'"));

  // HISTOGRAM: Redis's shape, the nodes' calls and buckets summed.
  long long node_calls = 0;
  for (const Reply& r : OnAllNodes({"LATENCY", "HISTOGRAM", "eval"})) {
    long long last = 0;
    const long long calls = HistogramCalls(r, "eval", &last);
    if (calls > 0) node_calls += calls;
  }
  EXPECT_GE(node_calls, 40);
  const Reply histogram = client_->Command({"LATENCY", "HISTOGRAM", "eval"});
  ASSERT_EQ(histogram.type, Reply::Type::kArray) << histogram;
  ASSERT_EQ(histogram.elements.size(), 2u) << histogram;
  long long last_count = 0;
  EXPECT_EQ(HistogramCalls(histogram, "eval", &last_count), node_calls) << histogram;
  EXPECT_EQ(last_count, node_calls)
      << "the last cumulative bucket counts every call: " << histogram;
  const Reply every = client_->Command({"LATENCY", "HISTOGRAM"});
  ASSERT_EQ(every.type, Reply::Type::kArray) << every;
  EXPECT_EQ(every.elements.size() % 2, 0u);
  EXPECT_GE(HistogramCalls(every, "eval", &last_count), node_calls) << every;
  EXPECT_EQ(client_->Command({"LATENCY", "HISTOGRAM", "nosuchcommand"}), Reply::Array({}));
}

}  // namespace
}  // namespace slotplane::integration
