#include <gtest/gtest.h>

#include "controlplane/ctl/admin_client.h"
#include "controlplane/ctl/ctl_args.h"
#include "controlplane/ctl/json.h"
#include "controlplane/ctl/table.h"
#include "controlplane/ctl/topology_table.h"

namespace slotplane::ctl {
namespace {

absl::StatusOr<CtlArgs> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "slotplanectl");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseCtlArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(CtlArgsTest, GlobalFlagsAnywhere) {
  unsetenv("SLOTPLANE_CONTROL_ADDR");
  auto args = Parse({"config", "--json", "set", "maxclients", "5", "--addr=10.0.0.1:7700",
                     "--expected-version", "3"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->json);
  EXPECT_EQ(args->addr, "10.0.0.1:7700");
  EXPECT_EQ(args->words, (std::vector<std::string>{"config", "set", "maxclients", "5"}));
  EXPECT_EQ(args->flags.find("expected-version")->second, "3");
  auto defaults = Parse({"status"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->addr, "127.0.0.1:7700");
  EXPECT_FALSE(defaults->tls);
  setenv("SLOTPLANE_CONTROL_ADDR", "10.1.1.1:1", 1);
  EXPECT_EQ(Parse({"status"})->addr, "10.1.1.1:1");
  unsetenv("SLOTPLANE_CONTROL_ADDR");
}

TEST(CtlArgsTest, ValuesAfterDoubleDashAndNegativeNumbers) {
  auto args = Parse({"config", "set", "auth", "--", "--weird--"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->words.back(), "--weird--");
  EXPECT_EQ(Parse({"config", "set", "maxclients", "-5"})->words.back(), "-5");
}

TEST(CtlArgsTest, Errors) {
  EXPECT_EQ(std::string(Parse({}).status().message()), "no command given");
  EXPECT_EQ(std::string(Parse({"status", "--bogus"}).status().message()), "unknown flag --bogus");
  EXPECT_EQ(std::string(Parse({"status", "--addr"}).status().message()), "--addr needs a value");
  EXPECT_EQ(std::string(Parse({"status", "--json=1"}).status().message()), "--json takes no value");
  EXPECT_FALSE(Parse({"status", "--timeout", "-1"}).ok());
  EXPECT_FALSE(Parse({"status", "--tls-cert", "c"}).ok());
  EXPECT_TRUE(absl::IsCancelled(Parse({"--help"}).status()));
  EXPECT_NE(CtlUsage().find("Exit codes"), std::string::npos);
}

TEST(CtlArgsTest, TlsFlagsImplyTls) {
  EXPECT_TRUE(Parse({"status", "--tls-ca", "ca.pem"})->tls);
  EXPECT_TRUE(Parse({"status", "--insecure"})->tls);
  EXPECT_TRUE(Parse({"status", "--insecure"})->insecure);
}

TEST(CtlExitCodeTest, Mapping) {
  EXPECT_EQ(ExitCodeFor(grpc::Status::OK), kExitOk);
  for (auto code :
       {grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::ABORTED, grpc::StatusCode::NOT_FOUND,
        grpc::StatusCode::UNAUTHENTICATED, grpc::StatusCode::ALREADY_EXISTS}) {
    EXPECT_EQ(ExitCodeFor(grpc::Status(code, "")), kExitRefused);
  }
  for (auto code : {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED}) {
    EXPECT_EQ(ExitCodeFor(grpc::Status(code, "")), kExitUnreachable);
  }
}

TEST(CtlOutputTest, JsonEscapesAndKeepsNumbers) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  const std::string json = JsonObject()
                               .Add("version", uint64_t{18446744073709551615u})
                               .Add("ok", true)
                               .Add("name", "x")
                               .AddRaw("list", JsonArray().Add("a").Add("b").str())
                               .str();
  EXPECT_EQ(json,
            "{\"version\":18446744073709551615,\"ok\":true,\"name\":\"x\",\"list\":"
            "[\"a\",\"b\"]}");
}

TEST(CtlOutputTest, TableAlignsColumns) {
  Table table({"A", "LONG HEADER", "C"});
  table.AddRow({"value", "x", "last"});
  EXPECT_EQ(table.str(), "A      LONG HEADER  C\nvalue  x            last\n");
  EXPECT_EQ(Ago(0, 1000), "-");
  EXPECT_EQ(Ago(1000, 6000), "5s ago");
  EXPECT_EQ(Ago(0 + 1, 1 + 3600 * 1000), "60m ago");
}

v1::Node* SetNode(v1::Node* node, const std::string& id, int port, v1::NodeHealth health) {
  node->set_id(id);
  node->set_host("10.0.0.1");
  node->set_port(port);
  node->set_health(health);
  return node;
}

TEST(CtlTopologyTest, RowsOrderedBySlotWithEachNodesStateAndTheGaps) {
  v1::Topology topology;
  // Given out of slot order: 10000-16383 first, then 0-4999 (in two ranges, reversed).
  v1::Shard* high = topology.add_shards();
  auto* r = high->add_slots();
  r->set_first(10000);
  r->set_last(16383);
  SetNode(high->mutable_master(), "m2", 7002, v1::NODE_HEALTH_FAILED);
  SetNode(high->add_replicas(), "r2", 7005, v1::NODE_HEALTH_ONLINE);
  v1::Shard* low = topology.add_shards();
  r = low->add_slots();
  r->set_first(100);
  r->set_last(4999);
  r = low->add_slots();
  r->set_first(0);
  r->set_last(99);
  SetNode(low->mutable_master(), "m1", 7001, v1::NODE_HEALTH_ONLINE);
  SetNode(low->add_replicas(), "r1", 7004, v1::NODE_HEALTH_FAILED);
  SetNode(low->add_replicas(), "r1b", 7007, v1::NODE_HEALTH_LOADING);
  v1::Shard* empty = topology.add_shards();  // a master without slots
  SetNode(empty->mutable_master(), "m3", 7003, v1::NODE_HEALTH_ONLINE);

  EXPECT_EQ(CoveredSlots(topology), 5000 + 6384);
  EXPECT_EQ(TopologyTable(topology),
            "SLOTS          ROLE     NODE           STATE      ID\n"
            "0-99,100-4999  master   10.0.0.1:7001  online     m1\n"
            "               replica  10.0.0.1:7004  failed     r1\n"
            "               replica  10.0.0.1:7007  loading    r1b\n"
            "5000-9999      -        -              uncovered  -\n"
            "10000-16383    master   10.0.0.1:7002  failed     m2\n"
            "               replica  10.0.0.1:7005  online     r2\n"
            "-              master   10.0.0.1:7003  online     m3\n");
  const std::vector<const v1::Shard*> by_slot = ShardsBySlot(topology);
  ASSERT_EQ(by_slot.size(), 3u);
  EXPECT_EQ(by_slot[0], low);
  EXPECT_EQ(by_slot[1], high);
  EXPECT_EQ(by_slot[2], empty);
  EXPECT_STREQ(HealthName(v1::NODE_HEALTH_UNSPECIFIED), "unknown");
}

}  // namespace
}  // namespace slotplane::ctl
