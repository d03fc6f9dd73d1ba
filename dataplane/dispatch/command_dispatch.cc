#include "dataplane/dispatch/command_dispatch.h"

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/slot.h"
#include "common/strings.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/command/key_extractor.h"
#include "dataplane/command/unsupported_reasons.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/proxy_command.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/client_pause.h"
#include "dataplane/stateful/client_tracking.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {

CommandDispatcher::CommandDispatcher(WorkerContext* worker)
    : worker_(worker),
      table_(CommandTable::Get()),
      local_(worker),
      fan_out_(worker, &ProxyInfoText),
      splitter_(worker) {}

void CommandDispatcher::ReplyError(ClientSession* client, ErrorKind kind,
                                   const std::string& error) {
  worker_->stats().CountError(kind);
  client->Reply(error);
}

const CommandInfo* CommandDispatcher::Resolve(ClientSession* client,
                                              const std::vector<std::string_view>& args) {
  const CommandInfo* cmd = table_.Find(args[0]);
  if (cmd == nullptr) {
    ReplyError(client, ErrorKind::kUnknownCommand, errors::UnknownCommand(args));
    return nullptr;
  }
  if (!ArityOk(*cmd, args.size())) {
    ReplyError(client, ErrorKind::kWrongArity, errors::WrongArity(cmd->name));
    return nullptr;
  }
  if (cmd->num_subcommands == 0 || args.size() < 2) return cmd;
  const CommandInfo* sub = table_.FindSubcommand(*cmd, args[1]);
  if (sub == nullptr) {
    ReplyError(client, ErrorKind::kUnknownCommand, errors::UnknownSubcommand(args[0], args[1]));
    return nullptr;
  }
  if (!ArityOk(*sub, args.size())) {
    ReplyError(client, ErrorKind::kWrongArity, errors::WrongArity(sub->name));
    return nullptr;
  }
  return sub;
}

void CommandDispatcher::Dispatch(ClientSession* client, const std::vector<std::string_view>& args,
                                 std::string_view raw) {
  worker_->stats().commands_processed.Add();
  client->BeginCommand();  // CLIENT REPLY SKIP applies to every next command, even a rejected one
  const CommandInfo* cmd = Resolve(client, args);
  if (cmd == nullptr) {
    if (ConnectionState* state = client->state()) state->OnRejected();  // EXEC will abort
    return;
  }
  client->StampCommand(worker_->command_stats().Stamp(*cmd, worker_->loop().now_ns()));
  ClientSession::Attributes& attributes = client->attributes();
  attributes.last_command = cmd->name;
  attributes.last_active_ms = worker_->loop().now_ms();
  if (!client->authenticated() && !(cmd->flags & kCmdNoAuth)) {
    ReplyError(client, ErrorKind::kAuth, errors::NoAuth());
    return;
  }
  // ACL rules: a null pointer for users that may run everything (one test on the hot path).
  if (const UserAcl* acl = client->acl(); acl != nullptr && !Permitted(client, *acl, *cmd, args)) {
    if (ConnectionState* state = client->state()) state->OnRejected();  // EXEC will abort
    return;
  }
  const ClientCommand command{*cmd, args, raw};
  // CLIENT PAUSE: one relaxed load while no pause was ever set.
  if (ClientPause::Get().active() && PostponedByPause(client, command)) return;
  // CLIENT TRACKING: one flag test for clients that do not track.
  if (client->tracking()) worker_->tracking().OnCommand(client, command);
  // The one branch shared-connection clients pay: a client inside MULTI, watching, subscribed
  // or with multiplexing off is handled by its connection state first.
  if (ConnectionState* state = client->state()) {
    if (state->Intercept(command)) return;
  }
  Route(client, command);
}

bool CommandDispatcher::PostponedByPause(ClientSession* client, const ClientCommand& command) {
  const SessionState* active = SessionState::Active(client);
  const bool in_multi = active != nullptr && active->in_multi();
  if (!ClientPause::Get().Postpones(command.info, in_multi, worker_->loop().now_ms())) {
    return false;
  }
  SessionState::Of(client, worker_)->Postpone(command);
  return true;
}

bool CommandDispatcher::Permitted(ClientSession* client, const UserAcl& acl, const CommandInfo& cmd,
                                  const std::vector<std::string_view>& args) {
  switch (acl.Check(cmd, args, &acl_scratch_)) {
    case UserAcl::Verdict::kAllowed:
      return true;
    case UserAcl::Verdict::kDeniedCommand:
      ReplyError(client, ErrorKind::kAuth, errors::NoPermCommand(cmd.name));
      return false;
    case UserAcl::Verdict::kDeniedKey:
      ReplyError(client, ErrorKind::kAuth, errors::NoPermKey());
      return false;
    case UserAcl::Verdict::kDeniedChannel:
      ReplyError(client, ErrorKind::kAuth, errors::NoPermChannel());
      return false;
  }
  return false;
}

// Single-slot commands, nearly every request, take the inline branch; the rest a call.
inline void CommandDispatcher::Route(ClientSession* client, const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  if (cmd.route != RouteClass::kSlot) {
    RouteUnslotted(client, command);
    return;
  }
  // XREAD ... BLOCK, and scripts: a script that runs long must not hold the shared connection
  // (stateful/script_call.h).
  if (((cmd.flags & kCmdBlocking) && HasBlockOption(command.args)) ||
      cmd.handler == Handler::kScript) {
    SessionState::Of(client, worker_)->DispatchPrivate(command);
    return;
  }
  RouteByKeys(client, command);
}

void CommandDispatcher::RouteUnslotted(ClientSession* client, const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  switch (cmd.route) {
    case RouteClass::kSlot:  // Route's own branch
      return;
    case RouteClass::kAnyNode:
      if (cmd.handler == Handler::kConfigGet) {
        fan_out_.ConfigGet(client, command);  // its reply is filtered
        return;
      }
      ForwardTo(client, worker_->router().AnyMaster(), 0, command);
      return;
    case RouteClass::kLocal:
      // PING while a script call is on the wire: the masters answer it, so that a node busy with
      // a script answers -BUSY as a busy Redis does (fan_out.h: the first error, else the reply
      // every master gave). Otherwise the proxy answers itself: one relaxed load per PING.
      if (cmd.handler == Handler::kPing &&
          worker_->proxy().scripts_running.load(std::memory_order_relaxed) > 0) {
        fan_out_.Execute(client, command);
        return;
      }
      worker_->stats().commands_local.Add();
      local_.Execute(client, command);
      return;
    case RouteClass::kUnsupported:
      ReplyError(client, ErrorKind::kUnsupported,
                 errors::Unsupported(cmd.name, UnsupportedReason(cmd)));
      return;
    case RouteClass::kAllMasters:
    case RouteClass::kAllNodes:
      fan_out_.Execute(client, command);
      return;
    case RouteClass::kPrivate:
      SessionState::Of(client, worker_)->DispatchPrivate(command);
      return;
  }
}

inline void CommandDispatcher::RouteByKeys(ClientSession* client, const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  const std::vector<std::string_view>& args = command.args;
  if (cmd.fixed_key > 0 && args.size() > static_cast<size_t>(cmd.fixed_key)) {
    ForwardToSlot(client, command, KeyHashSlot(args[cmd.fixed_key]));
    return;
  }
  if (!ExtractKeyPositions(cmd, args, &key_positions_) || key_positions_.empty()) {
    // No readable keys (e.g. EVAL with numkeys 0, or a malformed key count): any master runs it,
    // and Redis answers its own precise error for malformed calls.
    ForwardTo(client, worker_->router().AnyMaster(), 0, command);
    return;
  }
  uint16_t slot = KeyHashSlot(args[key_positions_[0]]);
  for (size_t i = 1; i < key_positions_.size(); ++i) {
    if (KeyHashSlot(args[key_positions_[i]]) != slot) {
      if (worker_->policy().enable_cross_slot && splitter_.Split(client, command, key_positions_)) {
        return;
      }
      ReplyError(client, ErrorKind::kCrossSlot, errors::CrossSlot());
      return;
    }
  }
  ForwardToSlot(client, command, slot);
}

inline void CommandDispatcher::ForwardToSlot(ClientSession* client, const ClientCommand& command,
                                             uint16_t slot) {
  BackendConn* conn = worker_->router().ForSlot(slot);
  const ReadPolicy read_policy = worker_->policy().read_policy;
  if ((command.info.flags & kCmdReadonly) && read_policy != ReadPolicy::kMaster &&
      conn != nullptr) {
    BackendConn* read = worker_->router().ForRead(slot, read_policy);
    ForwardTo(client, read, slot, command, /*replica_read=*/read != conn);
    return;
  }
  ForwardTo(client, conn, slot, command);
}

void CommandDispatcher::ForwardTo(ClientSession* client, BackendConn* conn, uint16_t slot,
                                  const ClientCommand& command, bool replica_read) {
  Request* request = client->NewRequest();
  request->slot = slot;
  request->replica_read = replica_read;
  command.WireForm(&request->command);
  worker_->forwarder().Forward(request, conn);
}

}  // namespace slotplane::dataplane
