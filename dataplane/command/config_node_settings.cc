#include "dataplane/command/config_node_settings.h"

#include "common/strings.h"

namespace slotplane::dataplane {
namespace {

// See the header for the reason of each group.
constexpr std::string_view kNodeParameters[] = {
    // identity
    "port", "bind", "bind-source-addr", "unixsocket", "unixsocketperm",
    // files
    "dir", "dbfilename", "appendfilename", "appenddirname", "logfile", "pidfile", "aclfile",
    // replication
    "replicaof", "slaveof", "replica-announce-ip", "slave-announce-ip", "replica-announce-port",
    "slave-announce-port", "replica-announced", "replica-priority", "slave-priority",
    // process
    "daemonize", "supervised", "syslog-enabled", "syslog-ident", "syslog-facility",
    "server_cpulist", "bio_cpulist", "aof_rewrite_cpulist", "bgsave_cpulist"};

constexpr std::string_view kNodePrefixes[] = {"cluster-", "tls-"};

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

}  // namespace

bool IsNodeSpecificConfigParameter(std::string_view name) {
  for (std::string_view parameter : kNodeParameters) {
    if (EqualsIgnoreCase(name, parameter)) return true;
  }
  for (std::string_view prefix : kNodePrefixes) {
    if (StartsWithIgnoreCase(name, prefix)) return true;
  }
  return false;
}

std::string_view FindNodeSpecificConfigSet(const std::vector<std::string_view>& args) {
  for (size_t i = 2; i < args.size(); i += 2) {
    if (IsNodeSpecificConfigParameter(args[i])) return args[i];
  }
  return {};
}

}  // namespace slotplane::dataplane
