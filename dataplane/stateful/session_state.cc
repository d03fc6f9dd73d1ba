#include "dataplane/stateful/session_state.h"

#include <charconv>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "common/logging.h"
#include "common/slot.h"
#include "common/strings.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/command/key_extractor.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/resp/request_encoder.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"
#include "dataplane/session/command_sink.h"
#include "dataplane/stateful/client_tracking.h"
#include "dataplane/stateful/pubsub_placement.h"

namespace slotplane::dataplane {
namespace {

bool IsSubscribe(Handler h) {
  return h == Handler::kSubscribe || h == Handler::kPsubscribe || h == Handler::kSsubscribe;
}

bool IsUnsubscribe(Handler h) {
  return h == Handler::kUnsubscribe || h == Handler::kPunsubscribe || h == Handler::kSunsubscribe;
}

SubscriptionType TypeOf(Handler h) {
  if (h == Handler::kPsubscribe || h == Handler::kPunsubscribe) return SubscriptionType::kPattern;
  if (h == Handler::kSsubscribe || h == Handler::kSunsubscribe) return SubscriptionType::kShard;
  return SubscriptionType::kChannel;
}

// Commands a transaction can queue although the proxy answers them outside MULTI: the node runs
// them inside EXEC exactly as the proxy would answer them.
bool RunsInsideExec(const CommandInfo& cmd) {
  switch (cmd.handler) {
    case Handler::kPing:
    case Handler::kEcho:
    case Handler::kSelect:
      return true;
    default:
      return FamilyOf(cmd).handler == Handler::kCluster;
  }
}

std::vector<std::string_view> Tail(const std::vector<std::string_view>& args) {
  return std::vector<std::string_view>(args.begin() + 1, args.end());
}

}  // namespace

int CommandSlot(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                std::vector<int>* scratch) {
  if (cmd.fixed_key > 0) {
    return args.size() > static_cast<size_t>(cmd.fixed_key) ? KeyHashSlot(args[cmd.fixed_key])
                                                            : kNoKeySlot;
  }
  if (!ExtractKeyPositions(cmd, args, scratch) || scratch->empty()) return kNoKeySlot;
  const int slot = KeyHashSlot(args[(*scratch)[0]]);
  for (size_t i = 1; i < scratch->size(); ++i) {
    if (KeyHashSlot(args[(*scratch)[i]]) != slot) return kCrossSlot;
  }
  return slot;
}

bool IsBlockingCall(const CommandInfo& cmd, const std::vector<std::string_view>& args) {
  if (!(cmd.flags & kCmdBlocking)) return false;
  return cmd.handler == Handler::kXread ? HasBlockOption(args) : true;
}

SessionState::SessionState(WorkerContext* worker, ClientSession* client)
    : worker_(worker),
      client_(client),
      pubsub_(worker, client, [this] { UpdateActive(); }),
      link_(worker, client),
      watch_call_(worker, client, this, &txn_, &watches_),
      exec_call_(worker, client, this, &txn_, &watches_),
      blocking_call_(worker, client, this),
      script_call_(worker, client, this),
      fanout_call_(worker, client, this) {}

SessionState::~SessionState() { worker_->loop().Cancel(pause_timer_); }

SessionState* SessionState::Of(ClientSession* client, WorkerContext* worker) {
  if (client->installed_state() == nullptr) {
    client->InstallState(std::make_unique<SessionState>(worker, client));
  }
  return static_cast<SessionState*>(client->installed_state());
}

const SessionState* SessionState::Active(const ClientSession* client) {
  return static_cast<const SessionState*>(client->state());
}

bool SessionState::multiplexed() const {
  return !multiplexing_off_ && !txn_.in_multi() && !txn_.watching() && watches_.conn == nullptr &&
         !pubsub_.subscribed();
}

void SessionState::DisableMultiplexing() {
  multiplexing_off_ = true;
  UpdateActive();
}

// --- CLIENT PAUSE ---

namespace {

constexpr int64_t kPausePollMs = 10;

// The arguments of a RESP multibulk command (a wire form: ClientCommand::WireForm), as views
// into `wire`. False when it is not one (never, for a wire form).
bool SplitWireForm(std::string_view wire, std::vector<std::string_view>* args) {
  args->clear();
  size_t pos = 0;
  auto number = [&](char type, int64_t* n) {
    if (pos >= wire.size() || wire[pos] != type) return false;
    const size_t end = wire.find("\r\n", pos);
    if (end == std::string_view::npos) return false;
    auto [ptr, ec] = std::from_chars(wire.data() + pos + 1, wire.data() + end, *n);
    pos = end + 2;
    return ec == std::errc() && ptr == wire.data() + end && *n >= 0;
  };
  int64_t count = 0;
  if (!number('*', &count)) return false;
  for (int64_t i = 0; i < count; ++i) {
    int64_t len = 0;
    if (!number('$', &len) || pos + static_cast<size_t>(len) + 2 > wire.size()) return false;
    args->push_back(wire.substr(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len) + 2;
  }
  return !args->empty();
}

}  // namespace

void SessionState::Postpone(const ClientCommand& command) {
  command.WireForm(&postponed_);
  client_->Hold();
  pause_timer_ = worker_->loop().RunAfter(kPausePollMs, [this] {
    pause_timer_ = 0;
    RetryPostponed();
  });
}

void SessionState::RetryPostponed() {
  // The command may be postponed again (into postponed_): dispatch it from a copy of its own.
  const std::string wire = std::move(postponed_);
  postponed_.clear();
  std::vector<std::string_view> args;
  // Resume() only marks the client: its next commands are parsed at the end of the loop pass,
  // after this one (which may hold it again).
  client_->Resume();
  if (!SplitWireForm(wire, &args)) return;
  worker_->commands().Dispatch(client_, args, wire);
}

bool SessionState::Unblock(bool error) {
  return call_ == &blocking_call_ && blocking_call_.Unblock(error);
}

void SessionState::UpdateActive() {
  client_->SetStateActive(txn_.in_multi() || txn_.watching() || watches_.conn != nullptr ||
                          pubsub_.subscribed() || multiplexing_off_);
}

void SessionState::ReplyAndCount(ErrorKind kind, const std::string& error) {
  worker_->stats().CountError(kind);
  client_->Reply(error);
}

void SessionState::OnRejected() {
  if (txn_.in_multi()) txn_.Flag();
}

// --- dispatch ---

bool SessionState::Intercept(const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  const Handler handler = command.handler();
  if (handler == Handler::kQuit) return false;
  if (handler == Handler::kReset) {
    Reset();
    return false;  // the local RESET answers +RESET
  }
  // In RESP3 a subscribed client may run any command (Redis 7): only (un)subscriptions stay here.
  if (pubsub_.subscribed() &&
      (!client_->resp3() || IsSubscribe(handler) || IsUnsubscribe(handler))) {
    HandleSubscribed(command);
    UpdateActive();
    return true;
  }
  if (txn_.in_multi()) {
    if (handler == Handler::kExec || handler == Handler::kDiscard || handler == Handler::kMulti ||
        handler == Handler::kWatch) {
      DispatchPrivate(command);
    } else {
      QueueInMulti(command);
    }
    return true;
  }
  // CONFIG GET stays with the dispatcher, which filters its reply.
  if (multiplexing_off_ && (cmd.route == RouteClass::kSlot || cmd.route == RouteClass::kAnyNode) &&
      handler != Handler::kConfigGet && !IsBlockingCall(cmd, command.args)) {
    int slot = cmd.route == RouteClass::kSlot ? CommandSlot(cmd, command.args, &key_positions_)
                                              : kNoKeySlot;
    if (slot != kCrossSlot) {
      RouteOnLink(command, slot);
      return true;
    }
  }
  return false;
}

void SessionState::HandleSubscribed(const ClientCommand& command) {
  const Handler handler = command.handler();
  const std::vector<std::string_view>& args = command.args;
  if (IsSubscribe(handler)) {
    pubsub_.Subscribe(TypeOf(handler), Tail(args));
  } else if (IsUnsubscribe(handler)) {
    pubsub_.Unsubscribe(TypeOf(handler), Tail(args));
  } else if (handler == Handler::kPing) {
    if (args.size() > 2) {
      ReplyAndCount(ErrorKind::kWrongArity, errors::WrongArity("ping"));
    } else {
      pubsub_.Ping(args);
    }
  } else {
    ReplyAndCount(ErrorKind::kCommand, errors::NotAllowedSubscribed(command.info.name));
  }
}

const char* SessionState::RefusalInMulti(const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  switch (cmd.route) {
    case RouteClass::kSlot:
      return nullptr;
    case RouteClass::kAnyNode:
      // EXEC's reply comes from the node unfiltered, and CONFIG GET's must not.
      return cmd.handler == Handler::kConfigGet
                 ? "inside MULTI its reply could not be filtered of the cluster's credentials"
                 : nullptr;
    case RouteClass::kLocal:
      return RunsInsideExec(cmd) ? nullptr
                                 : "inside MULTI it would run on a cluster node, not on the proxy";
    case RouteClass::kPrivate:
      return IsSubscribe(cmd.handler) || IsUnsubscribe(cmd.handler)
                 ? "subscribing inside MULTI is not supported"
                 : nullptr;
    case RouteClass::kAllMasters:
    case RouteClass::kAllNodes:
      return "inside MULTI: it runs on every master, and a transaction on one node";
    case RouteClass::kUnsupported:
      return "it has no meaning through a proxy";
  }
  return nullptr;
}

void SessionState::QueueInMulti(const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  if (cmd.flags & kCmdNoMulti) {
    ReplyAndCount(ErrorKind::kCommand, errors::NotAllowedInMulti());
    txn_.Flag();
    return;
  }
  if (const char* refusal = RefusalInMulti(command)) {
    ReplyAndCount(ErrorKind::kUnsupported, errors::Unsupported(cmd.name, refusal));
    txn_.Flag();
    return;
  }
  // Keyed commands, and blocking ones (which do not block inside MULTI), pin the slot.
  const bool keyed = cmd.route == RouteClass::kSlot ||
                     (cmd.route == RouteClass::kPrivate && (cmd.flags & kCmdBlocking));
  const int slot = keyed ? CommandSlot(cmd, command.args, &key_positions_) : kNoKeySlot;
  std::string_view bytes = command.WireView(&scratch_);
  if (static_cast<int64_t>(txn_.queued_bytes() + bytes.size()) >
      worker_->policy().client_query_buffer_limit) {
    ReplyAndCount(ErrorKind::kLimit, errors::Generic("slotplane: the transaction is larger than "
                                                     "client-query-buffer-limit"));
    txn_.Flag();
    return;
  }
  std::string reply = txn_.Queue(bytes, slot);
  if (reply[0] == '-') worker_->stats().CountError(ErrorKind::kCrossSlot);
  client_->Reply(reply);
}

void SessionState::RouteOnLink(const ClientCommand& command, int slot) {
  BackendConn* owner = slot >= 0 ? worker_->router().ForSlot(static_cast<uint16_t>(slot))
                                 : worker_->router().AnyMaster();
  Request* request = client_->NewRequest();
  if (owner == nullptr) {
    worker_->stats().CountError(ErrorKind::kClusterDown);
    client_->Complete(request, worker_->router().view() == nullptr ? errors::NoTopology()
                                                                   : errors::SlotNotServed());
    return;
  }
  request->slot = slot >= 0 ? static_cast<uint16_t>(slot) : 0;
  command.WireForm(&request->command);
  link_.Send(request, owner->address());
}

void SessionState::DispatchPrivate(const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  const Handler handler = command.handler();
  switch (handler) {
    case Handler::kMulti:
      Multi();
      break;
    case Handler::kExec:
      if (exec_call_.Start()) Run(&exec_call_);
      break;
    case Handler::kDiscard:
      Discard();
      break;
    case Handler::kWatch:
      if (watch_call_.Start(CommandSlot(cmd, command.args, &key_positions_), command)) {
        Run(&watch_call_);
      }
      break;
    case Handler::kUnwatch:
      txn_.Unwatch();
      DropWatch();
      client_->Reply(resp::kOk);
      break;
    case Handler::kPublish:
      ForwardToHome(command);
      break;
    case Handler::kWait:
      if (fanout_call_.StartWait(command)) Run(&fanout_call_);
      break;
    case Handler::kScript:
      if (script_call_.Start(CommandSlot(cmd, command.args, &key_positions_), command)) {
        Run(&script_call_);
      }
      break;
    default:
      if (IsSubscribe(handler) || IsUnsubscribe(handler)) {
        HandleSubscribed(command);
      } else if (FamilyOf(cmd).handler == Handler::kPubsub) {
        PubSubQuery(command);
      } else if (cmd.flags & kCmdBlocking) {
        const int slot = CommandSlot(cmd, command.args, &key_positions_);
        if (blocking_call_.Start(slot, command)) Run(&blocking_call_);
      } else {
        ReplyAndCount(ErrorKind::kUnsupported, errors::NotYetSupported(cmd.name));
      }
  }
  UpdateActive();
}

// --- transactions ---

void SessionState::Multi() {
  std::string reply = txn_.Multi();
  if (reply[0] == '-') worker_->stats().CountError(ErrorKind::kCommand);
  client_->Reply(reply);
}

void SessionState::Discard() {
  bool was_in_multi = txn_.in_multi();
  std::string reply = txn_.Discard();
  if (was_in_multi) {
    DropWatch();
  } else {
    worker_->stats().CountError(ErrorKind::kCommand);
  }
  client_->Reply(reply);
}

void SessionState::DropWatch() { watches_.Drop(&worker_->private_pool()); }

void SessionState::OnTopologyChanged() { pubsub_.OnTopologyChanged(); }

void SessionState::Reset() {
  txn_.Reset();
  DropWatch();
  pubsub_.UnsubscribeAll();
  UpdateActive();
}

// --- PUBLISH, PUBSUB ---

void SessionState::ForwardToHome(const ClientCommand& command) {
  // PUBLISH (and PUBSUB queries) to the home node, where slotplane keeps every channel and
  // pattern subscription (see pubsub_placement.h), so that it counts as one Redis would. A plain
  // request on a shared connection: no connection state is needed.
  const uint16_t slot = kPubSubHomeSlot;
  Request* request = client_->NewRequest();
  request->slot = slot;
  command.WireForm(&request->command);
  worker_->forwarder().Forward(request, worker_->router().ForSlot(slot));
}

void SessionState::PubSubQuery(const ClientCommand& command) {
  // PUBSUB alone and PUBSUB HELP: any master answers as one Redis would.
  if (command.handler() == Handler::kPubsub || command.handler() == Handler::kPubsubHelp) {
    worker_->forwarder().ForwardToAnyMaster(client_, command.args);
    return;
  }
  // CHANNELS, NUMSUB and NUMPAT: the home node holds every classic subscription of slotplane's
  // clients once (those on every master too), so it answers as one Redis would; a sum over the
  // masters would count those N times. Shard channels live on their slots' masters.
  const std::string_view name = command.info.name;
  if (name == "pubsub|channels" || name == "pubsub|numsub" || name == "pubsub|numpat") {
    ForwardToHome(command);
    return;
  }
  if (fanout_call_.StartPubSubQuery(command)) Run(&fanout_call_);
}

// --- the call in flight ---

void SessionState::Run(PrivateCall* call) {
  call_ = call;
  call->Begin();
}

void SessionState::OnCallDone() {
  call_ = nullptr;
  UpdateActive();
}

void SessionState::OnBarrier() {
  if (call_ != nullptr) call_->OnBarrier();
}

void SessionState::OnPrivateFrame(PrivateConn* conn, std::string_view frame) {
  if (call_ != nullptr && call_->Awaits(conn)) {
    call_->OnFrame(frame);
    return;
  }
  // Nothing is expected on an idle WATCH connection: its state is unknown now. A call that holds
  // it without awaiting a frame yet (still waiting for the client's earlier replies) must not
  // keep it either: the connection counts as lost for both.
  SP_LOG(kDebug) << "unexpected frame on a private connection to " << conn->address_text();
  OnPrivateConnLost(conn, errors::ConnectionLost(conn->address_text()));
}

void SessionState::OnPrivateConnLost(PrivateConn* conn, const std::string& error) {
  worker_->private_pool().Discard(conn);
  // The watches died with the connection (also when a WATCH call was on it): EXEC answers nil
  // and the client retries.
  if (conn == watches_.conn) watches_.Lose();
  if (call_ != nullptr && call_->Holds(conn)) call_->OnConnLost(error);
}

void SessionState::OnClientClosed() {
  worker_->loop().Cancel(pause_timer_);
  pause_timer_ = 0;
  if (call_ != nullptr) {
    call_->Abandon();
    call_ = nullptr;
  }
  DropWatch();
  txn_.Reset();
  pubsub_.OnClientClosed();
  link_.OnClientClosed();
  worker_->tracking().OnClientClosed(client_);
}

// --- PROXY MULTIPLEXING ---

void ExecuteProxyMultiplexing(WorkerContext* worker, ClientSession* client,
                              const std::vector<std::string_view>& args) {
  if (args.size() == 3 && EqualsIgnoreCase(args[2], "status")) {
    const SessionState* state = SessionState::Active(client);
    client->Reply(state == nullptr || state->multiplexed() ? "+on\r\n" : "+off\r\n");
  } else if (args.size() == 3 && EqualsIgnoreCase(args[2], "off")) {
    SessionState::Of(client, worker)->DisableMultiplexing();
    client->Reply(resp::kOk);
  } else {
    client->Reply(errors::Generic(
        "Unknown subcommand or wrong number of arguments for 'PROXY MULTIPLEXING'. Try PROXY "
        "HELP."));
  }
}

}  // namespace slotplane::dataplane
