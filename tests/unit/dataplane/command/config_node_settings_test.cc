#include "dataplane/command/config_node_settings.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace slotplane::dataplane {
namespace {

TEST(ConfigNodeSettingsTest, NodeSpecificParametersAnyCase) {
  for (std::string_view name : {"port",
                                "PORT",
                                "bind",
                                "bind-source-addr",
                                "dir",
                                "dbfilename",
                                "appendfilename",
                                "appenddirname",
                                "logfile",
                                "pidfile",
                                "aclfile",
                                "unixsocket",
                                "unixsocketperm",
                                "replicaof",
                                "slaveof",
                                "SlaveOf",
                                "replica-announce-ip",
                                "slave-announce-port",
                                "replica-announced",
                                "replica-priority",
                                "slave-priority",
                                "cluster-config-file",
                                "cluster-node-timeout",
                                "Cluster-Announce-Ip",
                                "cluster-slave-no-failover",
                                "tls-port",
                                "tls-cert-file",
                                "tls-replication",
                                "daemonize",
                                "syslog-ident",
                                "bio_cpulist"}) {
    EXPECT_TRUE(IsNodeSpecificConfigParameter(name)) << name;
  }
  for (std::string_view name :
       {"maxmemory", "maxmemory-policy", "save", "appendonly", "notify-keyspace-events", "timeout",
        "hz", "slowlog-log-slower-than", "busy-reply-threshold", "maxclients", "ports", "por",
        "cluster", "tls", "", "repl-backlog-size", "min-replicas-to-write", "requirepass"}) {
    EXPECT_FALSE(IsNodeSpecificConfigParameter(name)) << name;
  }
}

TEST(ConfigNodeSettingsTest, FindLooksAtEveryNameButNoValue) {
  using Args = std::vector<std::string_view>;
  EXPECT_EQ(FindNodeSpecificConfigSet(Args{"config", "set", "maxmemory", "1mb"}), "");
  EXPECT_EQ(FindNodeSpecificConfigSet(Args{"config", "set", "maxmemory", "1mb", "Port", "1"}),
            "Port");
  EXPECT_EQ(FindNodeSpecificConfigSet(Args{"CONFIG", "SET", "dir", "/tmp", "port", "1"}), "dir");
  // Values that look like node settings are only values.
  EXPECT_EQ(FindNodeSpecificConfigSet(Args{"config", "set", "notify-keyspace-events", "port"}), "");
  EXPECT_EQ(FindNodeSpecificConfigSet(Args{"config", "set"}), "");
}

}  // namespace
}  // namespace slotplane::dataplane
