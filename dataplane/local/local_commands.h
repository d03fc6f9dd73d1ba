#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/client_command.h"
#include "dataplane/command/command_table.h"
#include "dataplane/local/server_version.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// Commands the proxy answers itself (RouteClass::kLocal): connection commands (PING, ECHO, QUIT,
// SELECT, HELLO, AUTH, RESET, READONLY, READWRITE), CLIENT for the proxy's own clients
// (client_subcommands.h), COMMAND from the proxy's table (command_info_replies.h), the
// cluster-introspection subcommands of CLUSTER, and PROXY.
class LocalCommands {
 public:
  explicit LocalCommands(WorkerContext* worker) : worker_(worker), version_(worker) {}

  // `cmd` is the resolved command (the subcommand for container commands); arity is checked.
  void Execute(ClientSession* client, const ClientCommand& command);

 private:
  void Ping(ClientSession* client, const std::vector<std::string_view>& args);
  void Select(ClientSession* client, const std::vector<std::string_view>& args);
  void Hello(ClientSession* client, const std::vector<std::string_view>& args);
  void Auth(ClientSession* client, const std::vector<std::string_view>& args);
  void Cluster(ClientSession* client, const CommandInfo& cmd,
               const std::vector<std::string_view>& args);

  WorkerContext* worker_;
  ServerVersion version_;  // what HELLO reports
  std::string reply_;      // reused reply buffer
};

}  // namespace slotplane::dataplane
