#include "dataplane/scatter/reducers.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "dataplane/scatter/latency_reducers.h"

namespace slotplane::dataplane::reduce {
namespace {

using R = std::vector<std::string>;

std::string Sum(const R& replies) {
  std::string out;
  SumIntegers(replies, "dbsize", &out);
  return out;
}

TEST(ReducersTest, SumIntegers) {
  EXPECT_EQ(Sum({":1\r\n", ":2\r\n", ":39\r\n"}), ":42\r\n");
  EXPECT_EQ(Sum({":0\r\n"}), ":0\r\n");
  EXPECT_EQ(Sum({":-5\r\n", ":7\r\n"}), ":2\r\n");
  // The first error in part order wins.
  EXPECT_EQ(Sum({":1\r\n", "-ERR first\r\n", "-ERR second\r\n"}), "-ERR first\r\n");
  EXPECT_EQ(Sum({":1\r\n", "$1\r\nx\r\n"}),
            "-ERR slotplane: unexpected reply type from a cluster node for 'dbsize'\r\n");
}

TEST(ReducersTest, MinInteger) {
  std::string out;
  MinInteger({":300\r\n", ":100\r\n", ":200\r\n"}, "lastsave", &out);
  EXPECT_EQ(out, ":100\r\n");
}

TEST(ReducersTest, ConcatArrays) {
  std::string out;
  ConcatArrays({"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*0\r\n", "*1\r\n$3\r\nc\r\n\r\n"}, "keys", &out);
  EXPECT_EQ(out, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$3\r\nc\r\n\r\n");
  out.clear();
  ConcatArrays({"*0\r\n", "*0\r\n"}, "keys", &out);
  EXPECT_EQ(out, "*0\r\n");
  out.clear();
  ConcatArrays({"*0\r\n", "-ERR lost\r\n"}, "keys", &out);
  EXPECT_EQ(out, "-ERR lost\r\n");
}

TEST(ReducersTest, FirstUnlessError) {
  std::string out;
  FirstUnlessError(
      {"$40\r\n" + std::string(40, 'a') + "\r\n", "$40\r\n" + std::string(40, 'a') + "\r\n"}, &out);
  EXPECT_EQ(out, "$40\r\n" + std::string(40, 'a') + "\r\n");
  out.clear();
  FirstUnlessError({"+OK\r\n", "-ERR no\r\n", "+OK\r\n"}, &out);
  EXPECT_EQ(out, "-ERR no\r\n");
}

TEST(ReducersTest, AnySuccess) {
  std::string out;
  AnySuccess({"-NOTBUSY No scripts\r\n", "+OK\r\n", "-NOTBUSY No scripts\r\n"}, &out);
  EXPECT_EQ(out, "+OK\r\n");
  out.clear();
  AnySuccess({"-NOTBUSY a\r\n", "-NOTBUSY b\r\n"}, &out);
  EXPECT_EQ(out, "-NOTBUSY a\r\n");
  // A node's own reason beats the idle nodes' NOTBUSY.
  out.clear();
  AnySuccess({"-NOTBUSY a\r\n", "-UNKILLABLE Sorry\r\n", "-NOTBUSY b\r\n"}, &out);
  EXPECT_EQ(out, "-UNKILLABLE Sorry\r\n");
}

TEST(ReducersTest, AndIntegerArrays) {
  std::string out;
  AndIntegerArrays({"*3\r\n:1\r\n:1\r\n:0\r\n", "*3\r\n:1\r\n:0\r\n:0\r\n"}, "script|exists", {},
                   &out);
  EXPECT_EQ(out, "*3\r\n:1\r\n:0\r\n:0\r\n");
  out.clear();
  AndIntegerArrays({"*1\r\n:1\r\n", "*2\r\n:1\r\n:1\r\n"}, "script|exists", {}, &out);
  EXPECT_EQ(out[0], '-');
  // A script the proxy can load anywhere counts as present.
  out.clear();
  AndIntegerArrays({"*2\r\n:1\r\n:0\r\n", "*2\r\n:0\r\n:0\r\n"}, "script|exists", {true, false},
                   &out);
  EXPECT_EQ(out, "*2\r\n:1\r\n:0\r\n");
}

TEST(ReducersTest, RandomNonNil) {
  const R replies{"$-1\r\n", "$1\r\na\r\n", "$-1\r\n", "$1\r\nb\r\n"};
  std::string out;
  RandomNonNil(replies, "randomkey", 0, &out);
  EXPECT_EQ(out, "$1\r\na\r\n");
  out.clear();
  RandomNonNil(replies, "randomkey", 1, &out);
  EXPECT_EQ(out, "$1\r\nb\r\n");
  out.clear();
  RandomNonNil({"$-1\r\n", "$-1\r\n"}, "randomkey", 7, &out);
  EXPECT_EQ(out, "$-1\r\n");  // nil only when every master is empty
  out.clear();
  RandomNonNil({"-ERR down\r\n", "$1\r\nk\r\n"}, "randomkey", 3, &out);
  EXPECT_EQ(out, "$1\r\nk\r\n");  // a live master with keys beats a lost one
  out.clear();
  RandomNonNil({"-ERR down\r\n", "$-1\r\n"}, "randomkey", 3, &out);
  EXPECT_EQ(out, "-ERR down\r\n");  // cannot say "empty" when a master did not answer
}

// RESP3 clients: the parts are RESP2, the merged reply has RESP3 nulls (Redis: "_").
TEST(ReducersTest, Resp3Nulls) {
  std::string out;
  RandomNonNil({"$-1\r\n", "$-1\r\n"}, "randomkey", 7, &out, true);
  EXPECT_EQ(out, "_\r\n");
  out.clear();
  MergeByKeyOrder({"*2\r\n$2\r\nv0\r\n$-1\r\n", "*1\r\n$-1\r\n"}, {0, 1, 0}, "mget", &out, true);
  EXPECT_EQ(out, "*3\r\n$2\r\nv0\r\n_\r\n_\r\n");
}

TEST(ReducersTest, AllNodesNamesTheFailingNode) {
  const std::vector<std::string> nodes{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"};
  std::string out;
  AllNodes({"+OK\r\n", "+OK\r\n", "+OK\r\n"}, nodes, &out);
  EXPECT_EQ(out, "+OK\r\n");
  out.clear();
  AllNodes({"+OK\r\n", "-ERR bad option\r\n", "-ERR other\r\n"}, nodes, &out);
  EXPECT_EQ(out, "-ERR bad option (cluster node 10.0.0.2:6379; 1 of 3 nodes succeeded)\r\n");
  out.clear();
  AllNodes({":1\r\n", ":2\r\n", ":0\r\n"}, nodes, &out);
  EXPECT_EQ(out, ":3\r\n");
}

TEST(ReducersTest, MergeByKeyOrder) {
  // Keys k0..k4; k0, k2 and k4 went to part 0, k1 to part 1, k3 to part 2.
  const R replies{"*3\r\n$2\r\nv0\r\n$-1\r\n$2\r\nv4\r\n", "*1\r\n$2\r\nv1\r\n",
                  "*1\r\n$5\r\nv3\r\n!\r\n"};
  std::string out;
  MergeByKeyOrder(replies, {0, 1, 0, 2, 0}, "mget", &out);
  EXPECT_EQ(out, "*5\r\n$2\r\nv0\r\n$2\r\nv1\r\n$-1\r\n$5\r\nv3\r\n!\r\n$2\r\nv4\r\n");
  out.clear();
  MergeByKeyOrder({"*1\r\n$1\r\na\r\n", "-ERR slotplane: lost\r\n"}, {0, 1}, "mget", &out);
  EXPECT_EQ(out, "-ERR slotplane: lost\r\n");
  out.clear();
  // A part that answered a different number of elements than it was sent keys.
  MergeByKeyOrder({"*2\r\n$1\r\na\r\n$1\r\nb\r\n"}, {0}, "mget", &out);
  EXPECT_EQ(out, "-ERR slotplane: unexpected reply type from a cluster node for 'mget'\r\n");
}

// One slow log entry as Redis 7 writes it: id, timestamp, duration, args, client address, name.
std::string SlowEntry(int id, int time, const std::string& arg) {
  return "*6\r\n:" + std::to_string(id) + "\r\n:" + std::to_string(time) + "\r\n:5\r\n*1\r\n$" +
         std::to_string(arg.size()) + "\r\n" + arg + "\r\n$15\r\n127.0.0.1:50000\r\n$0\r\n\r\n";
}

// The same entry as the proxy answers it: the client-name field holds the node.
std::string TaggedEntry(int id, int time, const std::string& arg, const std::string& node) {
  return "*6\r\n:" + std::to_string(id) + "\r\n:" + std::to_string(time) + "\r\n:5\r\n*1\r\n$" +
         std::to_string(arg.size()) + "\r\n" + arg + "\r\n$15\r\n127.0.0.1:50000\r\n$" +
         std::to_string(node.size()) + "\r\n" + node + "\r\n";
}

TEST(ReducersTest, SlowlogGetMergesNewestFirstTaggedAndCut) {
  const std::vector<std::string> nodes = {"10.0.0.1:7000", "10.0.0.2:7000"};
  const R replies = {"*2\r\n" + SlowEntry(5, 300, "a") + SlowEntry(4, 100, "b"),
                     "*2\r\n" + SlowEntry(9, 300, "c") + SlowEntry(8, 200, "d")};
  std::string out;
  SlowlogGet(replies, nodes, -1, &out);
  // Same timestamp: the higher id first; ids are per node.
  EXPECT_EQ(out, "*4\r\n" + TaggedEntry(9, 300, "c", nodes[1]) +
                     TaggedEntry(5, 300, "a", nodes[0]) + TaggedEntry(8, 200, "d", nodes[1]) +
                     TaggedEntry(4, 100, "b", nodes[0]));
  out.clear();
  SlowlogGet(replies, nodes, 2, &out);
  EXPECT_EQ(out,
            "*2\r\n" + TaggedEntry(9, 300, "c", nodes[1]) + TaggedEntry(5, 300, "a", nodes[0]));
  out.clear();
  SlowlogGet(replies, nodes, 0, &out);
  EXPECT_EQ(out, "*0\r\n");
  out.clear();
  SlowlogGet({"*0\r\n", "*0\r\n"}, nodes, 10, &out);
  EXPECT_EQ(out, "*0\r\n");
}

TEST(ReducersTest, SlowlogGetErrorsAndShapes) {
  const std::vector<std::string> nodes = {"a:1", "b:2"};
  std::string out;
  SlowlogGet({"*0\r\n", "-ERR count should be greater than or equal to -1\r\n"}, nodes, -1, &out);
  EXPECT_EQ(out, "-ERR count should be greater than or equal to -1\r\n");
  out.clear();
  // Fewer than 6 fields: not a Redis 4+ entry.
  SlowlogGet({"*1\r\n*2\r\n:1\r\n:2\r\n"}, nodes, -1, &out);
  EXPECT_EQ(out, "-ERR slotplane: unexpected reply type from a cluster node for 'slowlog|get'\r\n");
  out.clear();
  SlowlogGet({":3\r\n"}, nodes, -1, &out);
  EXPECT_EQ(out, "-ERR slotplane: unexpected reply type from a cluster node for 'slowlog|get'\r\n");
}

TEST(ReducersTest, LatencyLatestTagsEventWithNode) {
  const std::vector<std::string> nodes = {"a:1", "b:2"};
  const std::string fork_a = "*4\r\n$4\r\nfork\r\n:100\r\n:5\r\n:7\r\n";
  const std::string cmd_a = "*4\r\n$7\r\ncommand\r\n:101\r\n:3\r\n:9\r\n";
  const std::string cmd_b = "*4\r\n$7\r\ncommand\r\n:102\r\n:4\r\n:4\r\n";
  std::string out;
  LatencyLatest({"*2\r\n" + fork_a + cmd_a, "*1\r\n" + cmd_b}, nodes, &out);
  EXPECT_EQ(out,
            "*3\r\n"
            "*4\r\n$11\r\ncommand@a:1\r\n:101\r\n:3\r\n:9\r\n"
            "*4\r\n$11\r\ncommand@b:2\r\n:102\r\n:4\r\n:4\r\n"
            "*4\r\n$8\r\nfork@a:1\r\n:100\r\n:5\r\n:7\r\n");
  out.clear();
  LatencyLatest({"*0\r\n", "-ERR lost\r\n"}, nodes, &out);
  EXPECT_EQ(out, "-ERR lost\r\n");
}

TEST(ReducersTest, LatencyHistoryOldestFirstWithNode) {
  const std::vector<std::string> nodes = {"a:1", "b:2"};
  std::string out;
  LatencyHistory({"*2\r\n*2\r\n:10\r\n:5\r\n*2\r\n:30\r\n:6\r\n", "*1\r\n*2\r\n:20\r\n:7\r\n"},
                 nodes, &out);
  EXPECT_EQ(out,
            "*3\r\n"
            "*3\r\n:10\r\n:5\r\n$3\r\na:1\r\n"
            "*3\r\n:20\r\n:7\r\n$3\r\nb:2\r\n"
            "*3\r\n:30\r\n:6\r\n$3\r\na:1\r\n");
}

TEST(ReducersTest, NodeTextsOneSectionPerNode) {
  const std::vector<std::string> nodes = {"a:1", "b:2"};
  std::string out;
  NodeTexts({"$6\r\nfine.\n\r\n", "$4\r\ngood\r\n"}, nodes, "latency|doctor", &out);
  const std::string text = "=== node a:1 ===\nfine.\n\n=== node b:2 ===\ngood\n\n";
  EXPECT_EQ(out, "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n");
  // GRAPH on a node without samples: its error in its section.
  out.clear();
  NodeTexts({"-ERR No samples available for event 'command'\r\n", "$3\r\ng\n\n\r\n"}, nodes,
            "latency|graph", &out);
  const std::string graph =
      "=== node a:1 ===\nERR No samples available for event 'command'\n\n=== node b:2 ===\ng\n\n\n";
  EXPECT_EQ(out, "$" + std::to_string(graph.size()) + "\r\n" + graph + "\r\n");
  // Every node failed: the first error, as from one node.
  out.clear();
  NodeTexts({"-ERR first\r\n", "-ERR second\r\n"}, nodes, "latency|graph", &out);
  EXPECT_EQ(out, "-ERR first\r\n");
  out.clear();
  NodeTexts({":1\r\n", "$1\r\nx\r\n"}, nodes, "latency|doctor", &out);
  EXPECT_EQ(out,
            "-ERR slotplane: unexpected reply type from a cluster node for 'latency|doctor'\r\n");
}

// LATENCY HISTOGRAM's entry for one command, as redis-server 7.0 writes it.
std::string HistogramEntry(const std::string& name, int calls,
                           const std::vector<std::pair<int, int>>& buckets) {
  std::string out = "$" + std::to_string(name.size()) + "\r\n" + name + "\r\n";
  out += "*4\r\n$5\r\ncalls\r\n:" + std::to_string(calls) + "\r\n$14\r\nhistogram_usec\r\n";
  out += "*" + std::to_string(buckets.size() * 2) + "\r\n";
  for (const auto& [bound, count] : buckets) {
    out += ":" + std::to_string(bound) + "\r\n:" + std::to_string(count) + "\r\n";
  }
  return out;
}

TEST(ReducersTest, LatencyHistogramSumsCumulativeBuckets) {
  // Node a: set 3 calls (2 at ≤4 µs, 3 at ≤16), get 1. Node b: set 2 calls (1 at ≤8, 2 at ≤32).
  const std::string a =
      "*4\r\n" + HistogramEntry("set", 3, {{4, 2}, {16, 3}}) + HistogramEntry("get", 1, {{2, 1}});
  const std::string b = "*2\r\n" + HistogramEntry("set", 2, {{8, 1}, {32, 2}});
  std::string out;
  LatencyHistogram({a, b}, &out);
  EXPECT_EQ(out, "*4\r\n" + HistogramEntry("set", 5, {{4, 2}, {8, 3}, {16, 4}, {32, 5}}) +
                     HistogramEntry("get", 1, {{2, 1}}));
  // A bound where the sum does not grow is left out, as Redis does.
  out.clear();
  LatencyHistogram({"*2\r\n" + HistogramEntry("set", 1, {{4, 1}}),
                    "*2\r\n" + HistogramEntry("set", 1, {{4, 1}})},
                   &out);
  EXPECT_EQ(out, "*2\r\n" + HistogramEntry("set", 2, {{4, 2}}));
  out.clear();
  LatencyHistogram({"*0\r\n", "*0\r\n"}, &out);
  EXPECT_EQ(out, "*0\r\n");
  out.clear();
  LatencyHistogram({"*0\r\n", "-ERR lost\r\n"}, &out);
  EXPECT_EQ(out, "-ERR lost\r\n");
  out.clear();
  LatencyHistogram({"*2\r\n$3\r\nset\r\n:1\r\n"}, &out);
  EXPECT_EQ(
      out, "-ERR slotplane: unexpected reply type from a cluster node for 'latency|histogram'\r\n");
}

// Redis 7.0's bytes for LATENCY HISTOGRAM set in RESP3 after one SET.
TEST(ReducersTest, LatencyHistogramResp3Maps) {
  std::string out;
  LatencyHistogram({"*2\r\n" + HistogramEntry("set", 1, {{16, 1}}), "*0\r\n"}, &out, true);
  EXPECT_EQ(out,
            "%1\r\n$3\r\nset\r\n%2\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n%1\r\n:16\r\n:"
            "1\r\n");
}

}  // namespace
}  // namespace slotplane::dataplane::reduce
