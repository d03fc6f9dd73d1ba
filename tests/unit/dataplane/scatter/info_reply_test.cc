#include "dataplane/scatter/info_reply.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace slotplane::dataplane {
namespace {

const char kNodeA[] =
    "# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\nos:Linux\r\nprocess_id:11\r\n"
    "tcp_port:7001\r\nuptime_in_seconds:500\r\nuptime_in_days:0\r\nexecutable:/usr/bin/"
    "redis-server\r\n\r\n"
    "# Clients\r\nconnected_clients:4\r\nblocked_clients:1\r\nmaxclients:10000\r\n\r\n"
    "# Memory\r\nused_memory:2048\r\nused_memory_human:2.00K\r\nmem_fragmentation_ratio:1.5\r\n\r\n"
    "# Stats\r\ntotal_commands_processed:10\r\ninstantaneous_input_kbps:0.50\r\n\r\n"
    "# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=7004,"
    "state=online,offset=1,lag=0\r\nmaster_repl_offset:1\r\n\r\n"
    "# Commandstats\r\ncmdstat_get:calls=2,usec=10,usec_per_call=5.00,rejected_calls=0,failed_"
    "calls=0\r\n\r\n"
    "# Errorstats\r\n\r\n"
    "# Cluster\r\ncluster_enabled:1\r\n\r\n"
    "# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=1000\r\n";

const char kNodeB[] =
    "# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\nos:Linux\r\nprocess_id:12\r\n"
    "tcp_port:7002\r\nuptime_in_seconds:400\r\nuptime_in_days:0\r\nexecutable:/usr/bin/"
    "redis-server\r\n\r\n"
    "# Clients\r\nconnected_clients:3\r\nblocked_clients:2\r\nmaxclients:10000\r\n\r\n"
    "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmem_fragmentation_ratio:2.5\r\n"
    "\r\n"
    "# Stats\r\ntotal_commands_processed:5\r\ninstantaneous_input_kbps:0.25\r\n\r\n"
    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:9\r\n\r\n"
    "# Commandstats\r\ncmdstat_get:calls=3,usec=20,usec_per_call=6.67,rejected_calls=0,failed_"
    "calls=1\r\ncmdstat_set:calls=1,usec=4,usec_per_call=4.00,rejected_calls=0,failed_calls=0\r\n"
    "\r\n"
    "# Errorstats\r\nerrorstat_ERR:count=2\r\n\r\n"
    "# Cluster\r\ncluster_enabled:1\r\n\r\n"
    "# Keyspace\r\ndb0:keys=30,expires=6,avg_ttl=3000\r\n";

InfoOverrides Overrides() {
  InfoOverrides o;
  o.connected_clients = 7;
  o.maxclients = 500;
  o.process_id = 4242;
  o.tcp_port = 7777;
  o.uptime_seconds = 90000;
  o.os = "Linux 6.1 x86_64";
  return o;
}

TEST(InfoReplyTest, MergedLooksLikeOneStandaloneServer) {
  const std::string merged = MergeInfo({kNodeA, kNodeB}, Overrides());
  for (const char* line :
       {"redis_version:7.0.15\r\n",
        "redis_mode:standalone\r\n",
        "os:Linux 6.1 x86_64\r\n",
        "process_id:4242\r\n",
        "tcp_port:7777\r\n",
        "uptime_in_seconds:90000\r\n",
        "uptime_in_days:1\r\n",
        "executable:\r\n",
        "connected_clients:7\r\n",
        "blocked_clients:3\r\n",
        "maxclients:500\r\n",
        "used_memory:1050624\r\n",
        "used_memory_human:1.00M\r\n",
        "mem_fragmentation_ratio:1.5\r\n",
        "total_commands_processed:15\r\n",
        "instantaneous_input_kbps:0.75\r\n",
        "role:master\r\n",
        "connected_slaves:0\r\n",
        "master_repl_offset:1\r\n",
        "cmdstat_get:calls=5,usec=30,usec_per_call=6.00,rejected_calls=0,failed_calls=1\r\n",
        "cmdstat_set:calls=1,usec=4,usec_per_call=4.00,rejected_calls=0,failed_calls=0\r\n",
        "errorstat_ERR:count=2\r\n",
        "cluster_enabled:0\r\n",
        "db0:keys=40,expires=8,avg_ttl=2500\r\n"}) {
    EXPECT_NE(merged.find(line), std::string::npos) << line << " in:\n" << merged;
  }
  EXPECT_EQ(merged.find("slave0:"), std::string::npos);
  EXPECT_EQ(merged.rfind("# Server\r\n", 0), 0u);
  EXPECT_NE(merged.find("\r\n\r\n# Keyspace\r\n"), std::string::npos);
}

TEST(InfoReplyTest, ProxySectionComesFirst) {
  InfoOverrides o = Overrides();
  o.proxy_section = "# Proxy\r\nproxy_version:0.1.0\r\n";
  const std::string merged = MergeInfo({kNodeA, kNodeB}, o);
  EXPECT_EQ(merged.rfind("# Proxy\r\nproxy_version:0.1.0\r\n\r\n# Server\r\n", 0), 0u) << merged;
}

TEST(InfoReplyTest, OneSection) {
  const std::string merged = MergeInfo(
      {"# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n", "# Keyspace\r\n"}, Overrides());
  EXPECT_EQ(merged, "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
}

TEST(InfoReplyTest, WantsProxySection) {
  EXPECT_TRUE(InfoWantsProxySection({"INFO"}));
  EXPECT_TRUE(InfoWantsProxySection({"INFO", "ALL"}));
  EXPECT_TRUE(InfoWantsProxySection({"info", "server", "proxy"}));
  EXPECT_FALSE(InfoWantsProxySection({"INFO", "server"}));
  EXPECT_FALSE(InfoWantsProxySection({"INFO", "keyspace"}));
}

}  // namespace
}  // namespace slotplane::dataplane
