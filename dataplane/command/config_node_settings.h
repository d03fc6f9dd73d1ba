#pragma once

#include <string_view>
#include <vector>

// The Redis configuration parameters that belong to one node, not to the cluster: CONFIG SET
// through the proxy goes to every node, so setting one of them would give six nodes the same
// port, directory, replication source or cluster identity. slotplane refuses the whole CONFIG
// SET (Redis applies CONFIG SET atomically) before any node sees it. The list, by reason:
//
//   identity     port, bind, bind-source-addr, unixsocket, unixsocketperm
//   files        dir, dbfilename, appendfilename, appenddirname, logfile, pidfile, aclfile
//   replication  replicaof, slaveof, replica-announce-ip/-port, replica-announced,
//                replica-priority (and their slave-* aliases)
//   cluster      every cluster-* parameter: the cluster's administration, hidden by the proxy
//   TLS          every tls-* parameter: each node's certificates and listeners, which slotplane's
//                own connections to the nodes depend on
//   process      daemonize, supervised, syslog-enabled, syslog-ident, syslog-facility and the
//                *_cpulist parameters (the host's processes and CPUs)
//
// Checked against Redis 7.0's config.c (CONFIG GET * of 7.0.15). Secrets (config_secrets.h) are
// a separate rule with their own error.
namespace slotplane::dataplane {

// Whether `name` (any case) is a node-specific parameter. Allocates nothing.
bool IsNodeSpecificConfigParameter(std::string_view name);

// CONFIG SET's `args` ("config", "set", name, value, ...): the first parameter name, as the
// client spelled it, that is node-specific; empty when none is. Values are never looked at.
std::string_view FindNodeSpecificConfigSet(const std::vector<std::string_view>& args);

}  // namespace slotplane::dataplane
