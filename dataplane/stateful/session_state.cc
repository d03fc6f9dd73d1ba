#include "dataplane/stateful/session_state.h"

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

namespace slotplane::dataplane {
namespace {

std::string_view Name(const CommandInfo& cmd) { return cmd.name; }

bool IsSubscribeFamily(std::string_view name) {
  return name == "subscribe" || name == "psubscribe" || name == "ssubscribe" ||
         name == "unsubscribe" || name == "punsubscribe" || name == "sunsubscribe";
}

SubscriptionType TypeOf(std::string_view name) {
  if (name == "psubscribe" || name == "punsubscribe") return SubscriptionType::kPattern;
  if (name == "ssubscribe" || name == "sunsubscribe") return SubscriptionType::kShard;
  return SubscriptionType::kChannel;
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
  std::string_view name = Name(cmd);
  if (name == "xread" || name == "xreadgroup") return HasBlockOption(args);
  return true;
}

SessionState::SessionState(WorkerContext* worker, ClientSession* client)
    : worker_(worker),
      client_(client),
      pubsub_(worker, client, [this] { UpdateActive(); }),
      link_(worker, client),
      watch_call_(worker, client, this, &txn_, &watches_),
      exec_call_(worker, client, this, &txn_, &watches_),
      blocking_call_(worker, client, this),
      fanout_call_(worker, client, this) {}

SessionState::~SessionState() = default;

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

bool SessionState::Intercept(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                             std::string_view raw) {
  std::string_view name = Name(cmd);
  if (name == "quit") return false;
  if (name == "reset") {
    Reset();
    return false;  // the local RESET answers +RESET
  }
  if (pubsub_.subscribed()) {
    HandleSubscribed(cmd, args);
    UpdateActive();
    return true;
  }
  if (txn_.in_multi()) {
    if (name == "exec" || name == "discard" || name == "multi" || name == "watch") {
      DispatchPrivate(cmd, args, raw);
    } else {
      QueueInMulti(cmd, args, raw);
    }
    return true;
  }
  if (multiplexing_off_ && (cmd.route == RouteClass::kSlot || cmd.route == RouteClass::kAnyNode) &&
      !IsBlockingCall(cmd, args)) {
    int slot =
        cmd.route == RouteClass::kSlot ? CommandSlot(cmd, args, &key_positions_) : kNoKeySlot;
    if (slot != kCrossSlot) {
      RouteOnLink(cmd, slot, args, raw);
      return true;
    }
  }
  return false;
}

void SessionState::HandleSubscribed(const CommandInfo& cmd,
                                    const std::vector<std::string_view>& args) {
  std::string_view name = Name(cmd);
  if (IsSubscribeFamily(name)) {
    if (name.find("unsubscribe") != std::string_view::npos) {
      pubsub_.Unsubscribe(TypeOf(name), Tail(args));
    } else {
      pubsub_.Subscribe(TypeOf(name), Tail(args));
    }
  } else if (name == "ping") {
    if (args.size() > 2) {
      ReplyAndCount(ErrorKind::kWrongArity, errors::WrongArity("ping"));
    } else {
      pubsub_.Ping(args);
    }
  } else {
    ReplyAndCount(ErrorKind::kCommand, errors::NotAllowedSubscribed(name));
  }
}

void SessionState::QueueInMulti(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                                std::string_view raw) {
  std::string_view name = Name(cmd);
  if (cmd.flags & kCmdNoMulti) {
    ReplyAndCount(ErrorKind::kCommand, errors::NotAllowedInMulti());
    txn_.Flag();
    return;
  }
  int slot = kNoKeySlot;
  const char* refusal = nullptr;
  switch (cmd.route) {
    case RouteClass::kSlot:
      slot = CommandSlot(cmd, args, &key_positions_);
      break;
    case RouteClass::kAnyNode:
      break;
    case RouteClass::kLocal:
      // The node runs these inside EXEC exactly as the proxy would answer them.
      if (!(name == "ping" || name == "echo" || name == "select" ||
            absl::StartsWith(AbslView(name), "cluster|"))) {
        refusal = "inside MULTI it would run on a cluster node, not on the proxy";
      }
      break;
    case RouteClass::kPrivate:
      if (IsSubscribeFamily(name)) {
        refusal = "subscribing inside MULTI is not supported";
      } else if (IsBlockingCall(cmd, args) || (cmd.flags & kCmdBlocking)) {
        slot = CommandSlot(cmd, args, &key_positions_);  // inside MULTI it does not block
      }
      break;
    case RouteClass::kAllMasters:
    case RouteClass::kAllNodes:
      refusal = "inside MULTI: it runs on every master, and a transaction on one node";
      break;
    case RouteClass::kUnsupported:
      refusal = "it has no meaning through a proxy";
      break;
  }
  if (refusal != nullptr) {
    ReplyAndCount(ErrorKind::kUnsupported, errors::Unsupported(name, refusal));
    txn_.Flag();
    return;
  }
  std::string_view bytes = raw;
  if (raw.empty()) {
    EncodeCommand(args, &scratch_);
    bytes = scratch_;
  }
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

void SessionState::RouteOnLink(const CommandInfo& cmd, int slot,
                               const std::vector<std::string_view>& args, std::string_view raw) {
  (void)cmd;
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
  AssignCommand(args, raw, &request->command);
  link_.Send(request, owner->address());
}

void SessionState::DispatchPrivate(const CommandInfo& cmd,
                                   const std::vector<std::string_view>& args,
                                   std::string_view raw) {
  std::string_view name = Name(cmd);
  if (name == "multi") {
    Multi();
  } else if (name == "exec") {
    if (exec_call_.Start()) Run(&exec_call_);
  } else if (name == "discard") {
    Discard();
  } else if (name == "watch") {
    if (watch_call_.Start(CommandSlot(cmd, args, &key_positions_), args, raw)) Run(&watch_call_);
  } else if (name == "unwatch") {
    txn_.Unwatch();
    DropWatch();
    client_->Reply(resp::kOk);
  } else if (IsSubscribeFamily(name)) {
    HandleSubscribed(cmd, args);
  } else if (name == "publish") {
    Publish(args, raw);
  } else if (absl::StartsWith(AbslView(name), "pubsub")) {
    PubSubQuery(cmd, args, raw);
  } else if (name == "wait") {
    if (fanout_call_.StartWait(args, raw)) Run(&fanout_call_);
  } else if (cmd.flags & kCmdBlocking) {
    const int slot = CommandSlot(cmd, args, &key_positions_);
    if (blocking_call_.Start(slot, args, raw)) Run(&blocking_call_);
  } else {
    ReplyAndCount(ErrorKind::kUnsupported, errors::NotYetSupported(name));
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

void SessionState::Reset() {
  txn_.Reset();
  DropWatch();
  pubsub_.UnsubscribeAll();
  UpdateActive();
}

// --- PUBLISH, PUBSUB ---

void SessionState::Publish(const std::vector<std::string_view>& args, std::string_view raw) {
  // To the channel's slot owner, where slotplane keeps the channel's subscribers (see
  // PubSubSession), so that the count it answers includes them. A plain request on a shared
  // connection: PUBLISH needs no connection state.
  const uint16_t slot = KeyHashSlot(args[1]);
  Request* request = client_->NewRequest();
  request->slot = slot;
  AssignCommand(args, raw, &request->command);
  worker_->forwarder().Forward(request, worker_->router().ForSlot(slot));
}

void SessionState::PubSubQuery(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                               std::string_view raw) {
  std::string_view name = Name(cmd);
  if (name == "pubsub|help" || name == "pubsub") {
    worker_->forwarder().ForwardToAnyMaster(client_, args);
    return;
  }
  if (fanout_call_.StartPubSubQuery(name, args, raw)) Run(&fanout_call_);
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
  // Nothing is expected on an idle WATCH connection: its state is unknown now.
  SP_LOG(kDebug) << "unexpected frame on a private connection to " << conn->address_text();
  if (conn == watches_.conn) watches_.Lose();
  worker_->private_pool().Discard(conn);
}

void SessionState::OnPrivateConnLost(PrivateConn* conn, const std::string& error) {
  worker_->private_pool().Discard(conn);
  // The watches died with the connection (also when a WATCH call was on it): EXEC answers nil
  // and the client retries.
  if (conn == watches_.conn) watches_.Lose();
  if (call_ != nullptr && call_->Holds(conn)) call_->OnConnLost(error);
}

void SessionState::OnClientClosed() {
  if (call_ != nullptr) {
    call_->Abandon();
    call_ = nullptr;
  }
  DropWatch();
  txn_.Reset();
  pubsub_.OnClientClosed();
  link_.OnClientClosed();
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
