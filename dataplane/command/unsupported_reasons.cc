#include "dataplane/command/unsupported_reasons.h"

#include <string_view>

namespace slotplane::dataplane {
namespace {

struct Reason {
  const char* name;  // lower case; "parent|sub" for a subcommand
  const char* why;
};

constexpr Reason kReasons[] = {
    {"acl", "users and ACLs live on each cluster node; manage them on the nodes"},
    {"cluster",
     "the proxy hides the cluster's administration; run it against the nodes (CLUSTER INFO, "
     "KEYSLOT, SLOTS, SHARDS and NODES are answered)"},
    {"debug", "it would act on one cluster node, not on the keyspace the proxy serves"},
    {"failover", "failovers are the cluster's business; run it against a replica"},
    {"module", "modules must be loaded on every cluster node"},
    {"monitor", "the proxy cannot merge the cluster nodes' command streams"},
    {"move", "a cluster has database 0 only"},
    {"psync", "replication happens between cluster nodes, not through the proxy"},
    {"replconf", "replication happens between cluster nodes, not through the proxy"},
    {"replicaof", "the cluster's replication is managed on its nodes"},
    {"script|debug", "the Lua debugger would take over a shared connection to a cluster node"},
    {"shutdown", "the proxy does not stop cluster nodes (PROXY SHUTDOWN stops the proxy)"},
    {"slaveof", "the cluster's replication is managed on its nodes"},
    {"swapdb", "a cluster has database 0 only"},
    {"sync", "replication happens between cluster nodes, not through the proxy"},
};

const char* Find(std::string_view name) {
  for (const Reason& reason : kReasons) {
    if (name == reason.name) return reason.why;
  }
  return nullptr;
}

}  // namespace

const char* UnsupportedReason(const CommandInfo& cmd) {
  const std::string_view name(cmd.name);
  if (const char* why = Find(name)) return why;
  const size_t bar = name.find('|');
  if (bar != std::string_view::npos) {
    if (const char* why = Find(name.substr(0, bar))) return why;
  }
  return "it has no meaning through a proxy";
}

}  // namespace slotplane::dataplane
