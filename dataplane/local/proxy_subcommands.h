#pragma once

#include <string>
#include <string_view>
#include <vector>

// The PROXY subcommands that live in their own files; ExecuteProxyCommand (proxy_command.cc)
// dispatches to them. Each runs on the client's worker thread, checks its own arguments and
// replies exactly once, now or later (through ClientRegistry::BeginAsync/FinishAsync).
namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// CONFIG GET <pattern> [<pattern> ...] | CONFIG SET <option> <value> [<option> <value> ...]
// (proxy_config_command.cc).
void ProxyConfigCommand(WorkerContext* worker, ClientSession* client,
                        const std::vector<std::string_view>& args);

// CLUSTER [INFO|STATUS|CONNECTION|NODES|UPDATE] (proxy_cluster_command.cc).
void ProxyClusterCommand(WorkerContext* worker, ClientSession* client,
                         const std::vector<std::string_view>& args);

// FLEET: the proxies the control plane sees (proxy_cluster_command.cc).
void ProxyFleetCommand(WorkerContext* worker, ClientSession* client,
                       const std::vector<std::string_view>& args);

// A bulk-string reply.
void ReplyBulkText(ClientSession* client, std::string_view text);

}  // namespace slotplane::dataplane
