#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/command_table.h"
#include "dataplane/core/errors.h"
#include "dataplane/scatter/cross_slot.h"
#include "dataplane/scatter/fan_out.h"
#include "dataplane/local/local_commands.h"

namespace slotplane::dataplane {

class BackendConn;
class ClientSession;
class Worker;

// Decides what happens to each parsed command: a Redis error (unknown command, wrong arity,
// CROSSSLOT), a local answer, or a forward to the node that owns its keys. One per worker; its
// scratch vectors are reused so the single-key path does not allocate.
class CommandDispatcher {
 public:
  explicit CommandDispatcher(Worker* worker);

  // `raw` is the command's RESP bytes when it arrived as multibulk (forwarded verbatim), empty
  // when it arrived inline (re-encoded before forwarding).
  void Dispatch(ClientSession* client, const std::vector<std::string_view>& args,
                std::string_view raw);
  // Sends a keyless command to any master (used by local commands that defer to the cluster).
  void ForwardToAnyMaster(ClientSession* client, const std::vector<std::string_view>& args);

 private:
  // Resolves the command and, for container commands, the subcommand; answers errors itself.
  const CommandInfo* Resolve(ClientSession* client, const std::vector<std::string_view>& args);
  void RouteByKeys(ClientSession* client, const CommandInfo& cmd,
                   const std::vector<std::string_view>& args, std::string_view raw);
  void ForwardTo(ClientSession* client, BackendConn* conn, uint16_t slot,
                 const std::vector<std::string_view>& args, std::string_view raw,
                 bool replica_read = false);
  // Forwards a command on `slot` to the slot's master, or to a replica when it is read-only and
  // the read policy allows.
  void ForwardToSlot(ClientSession* client, const CommandInfo& cmd, uint16_t slot,
                     const std::vector<std::string_view>& args, std::string_view raw);
  void ReplyError(ClientSession* client, ErrorKind kind, const std::string& error);

  Worker* worker_;
  LocalCommands local_;
  FanOut fan_out_;
  CrossSlotSplitter splitter_;
  std::vector<int> key_positions_;
};

// Encodes `args` as a RESP multibulk command into `out` (inline commands, proxy-built commands).
void EncodeCommand(const std::vector<std::string_view>& args, std::string* out);

// True when an XREAD/XREADGROUP call has a BLOCK option (it would then block a shared
// connection).
bool HasBlockOption(const std::vector<std::string_view>& args);

}  // namespace slotplane::dataplane
