#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;
struct ClientCommand;

// CLIENT, answered by the proxy about its own client connections (never forwarded: a node only
// knows the proxy's shared connections):
//   ID, GETNAME, SETNAME, INFO, NO-EVICT, SETINFO (Redis 7.2's), REPLY ON, HELP;
//   LIST [TYPE t | ID id ...] and KILL (old and filter forms) over every worker of this proxy,
//   through each worker's task queue (cross_worker.h), so no lock is taken;
//   UNBLOCK id [TIMEOUT|ERROR] likewise, for a client blocked in a blocking command (the node
//   unblocks it: stateful/blocking_call.h);
//   PAUSE, UNPAUSE: the proxy's clients on every worker (stateful/client_pause.h);
//   TRACKING, CACHING, GETREDIR, TRACKINGINFO: client_tracking_commands.h.
// `command.info` is the resolved subcommand (its handler id says which). Worker thread.
void ExecuteClientCommand(WorkerContext* worker, ClientSession* client,
                          const ClientCommand& command);

// One CLIENT LIST line (with its '\n') for `client`, Redis's fields in Redis's order.
std::string ClientListLine(WorkerContext& worker, ClientSession& client);

}  // namespace slotplane::dataplane
