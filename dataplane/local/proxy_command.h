#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// The PROXY command (redis-cluster-proxy's administration command): PING, HELP, INFO [section],
// CONFIG GET|SET, CLIENT ID|THREAD, CLUSTER INFO|STATUS|CONNECTION|NODES|UPDATE, COMMAND
// [UNSUPPORTED|CROSSSLOTS-UNSUPPORTED], MULTIPLEXING STATUS|OFF, FLEET, LOG [level] message,
// SHUTDOWN [ASAP]. The subcommands live in proxy_*.cc files.
void ExecuteProxyCommand(WorkerContext* worker, ClientSession* client,
                         const std::vector<std::string_view>& args);

// The INFO-style text of PROXY INFO (proxy_info.cc): "# Section" headers and "name:value" lines.
// `section` empty or "all" gives every section. Safe to call from any worker thread.
std::string ProxyInfoText(WorkerContext* worker, std::string_view section);

}  // namespace slotplane::dataplane
