#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/client_command.h"
#include "dataplane/command/command_table.h"
#include "dataplane/command/user_acl.h"
#include "dataplane/core/errors.h"
#include "dataplane/local/local_commands.h"
#include "dataplane/scatter/cross_slot.h"
#include "dataplane/scatter/fan_out.h"
#include "dataplane/session/command_sink.h"

namespace slotplane::dataplane {

class BackendConn;
class ClientSession;
class WorkerContext;

// Decides what happens to each parsed command: a Redis error (unknown command, wrong arity,
// CROSSSLOT), a local answer, or a forward to the node that owns its keys. One per worker; its
// scratch vectors are reused so the single-key path does not allocate.
class CommandDispatcher : public CommandSink {
 public:
  explicit CommandDispatcher(WorkerContext* worker);

  // --- CommandSink ---
  void Dispatch(ClientSession* client, const std::vector<std::string_view>& args,
                std::string_view raw) override;

 private:
  // Resolves the command and, for container commands, the subcommand; answers errors itself.
  const CommandInfo* Resolve(ClientSession* client, const std::vector<std::string_view>& args);
  // The ACL check (UserAcl::Check); answers NOPERM itself and returns false on a denial.
  bool Permitted(ClientSession* client, const UserAcl& acl, const CommandInfo& cmd,
                 const std::vector<std::string_view>& args);
  // CLIENT PAUSE in force for the command: it waits (SessionState::Postpone); returns true.
  bool PostponedByPause(ClientSession* client, const ClientCommand& command);
  void Route(ClientSession* client, const ClientCommand& command);
  // Route for every route class but kSlot.
  void RouteUnslotted(ClientSession* client, const ClientCommand& command);
  void RouteByKeys(ClientSession* client, const ClientCommand& command);
  void ForwardTo(ClientSession* client, BackendConn* conn, uint16_t slot,
                 const ClientCommand& command, bool replica_read = false);
  // Forwards a command on `slot` to the slot's master, or to a replica when it is read-only and
  // the read policy allows.
  void ForwardToSlot(ClientSession* client, const ClientCommand& command, uint16_t slot);
  void ReplyError(ClientSession* client, ErrorKind kind, const std::string& error);

  WorkerContext* worker_;
  const CommandTable& table_;  // CommandTable::Get(), looked up once
  LocalCommands local_;
  FanOut fan_out_;
  CrossSlotSplitter splitter_;
  std::vector<int> key_positions_;
  AclScratch acl_scratch_;  // ACL key checks reuse it
};

}  // namespace slotplane::dataplane
