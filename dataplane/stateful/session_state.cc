#include "dataplane/stateful/session_state.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/slot.h"
#include "common/strings.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/command/key_extractor.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/resp/request_encoder.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/node_answers.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";
constexpr std::string_view kUnwatch = "*1\r\n$7\r\nUNWATCH\r\n";
constexpr std::string_view kNil = "*-1\r\n";
constexpr std::string_view kEmptyArray = "*0\r\n";

// A replicated write that changes nothing: run before WAIT on a private connection so that the
// node's WAIT covers every write the node took before it (WAIT counts the replicas that reached
// the connection's own last write).
constexpr std::string_view kWaitMarkerScript =
    "if redis.call('exists', KEYS[1]) == 0 then redis.call('set', KEYS[1], '1') "
    "redis.call('del', KEYS[1]) end return 0";
constexpr int kMaxMarkerKeyTries = 100000;

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

// The masters that own slots in the worker's current view.
std::vector<NodeAddress> Masters(WorkerContext* worker) {
  std::vector<NodeAddress> out;
  const ClusterViewPtr& view = worker->router().view();
  if (view == nullptr) return out;
  for (const Shard& shard : view->shards()) {
    if (!shard.slots.empty()) out.push_back(shard.master.address);
  }
  return out;
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
      fanout_(worker) {}

SessionState::~SessionState() { worker_->loop().Cancel(retry_timer_); }

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
  return !multiplexing_off_ && !txn_.in_multi() && !txn_.watching() && watch_conn_ == nullptr &&
         !pubsub_.subscribed();
}

void SessionState::DisableMultiplexing() {
  multiplexing_off_ = true;
  UpdateActive();
}

void SessionState::UpdateActive() {
  client_->SetStateActive(txn_.in_multi() || txn_.watching() || watch_conn_ != nullptr ||
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
  if (raw.empty()) {
    EncodeCommand(args, &request->command);
  } else {
    request->command.assign(raw.data(), raw.size());
  }
  link_.Send(request, owner->address());
}

void SessionState::DispatchPrivate(const CommandInfo& cmd,
                                   const std::vector<std::string_view>& args,
                                   std::string_view raw) {
  std::string_view name = Name(cmd);
  if (name == "multi") {
    std::string reply = txn_.Multi();
    if (reply[0] == '-') worker_->stats().CountError(ErrorKind::kCommand);
    client_->Reply(reply);
  } else if (name == "exec") {
    Exec();
  } else if (name == "discard") {
    bool was_in_multi = txn_.in_multi();
    std::string reply = txn_.Discard();
    if (was_in_multi) {
      DropWatch();
    } else {
      worker_->stats().CountError(ErrorKind::kCommand);
    }
    client_->Reply(reply);
  } else if (name == "watch") {
    Watch(args, raw, cmd);
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
    Wait(args, raw);
  } else if (cmd.flags & kCmdBlocking) {
    Blocking(cmd, args, raw);
  } else {
    ReplyAndCount(ErrorKind::kUnsupported, errors::NotYetSupported(name));
  }
  UpdateActive();
}

// --- transactions ---

void SessionState::Exec() {
  switch (txn_.Exec()) {
    case Transaction::ExecAction::kNotInMulti:
      ReplyAndCount(ErrorKind::kCommand, errors::ExecWithoutMulti());
      return;
    case Transaction::ExecAction::kAbort:
      ReplyAndCount(ErrorKind::kCommand, errors::ExecAbort());
      DropWatch();
      return;
    case Transaction::ExecAction::kEmpty:
      client_->Reply(kEmptyArray);
      return;
    case Transaction::ExecAction::kRun:
      break;
  }
  worker_->stats().transactions.Add();
  if (watch_broken_) {
    txn_.Finish();
    DropWatch();
    client_->Reply(kNil);
    return;
  }
  call_ = Call();
  call_.kind = Call::Kind::kExec;
  call_.slot = txn_.slot();
  call_.request = client_->NewRequest();
  if (watch_conn_ != nullptr) {
    // The block must run where the watches are.
    call_.conn = watch_conn_;
    call_.asking = watch_asking_;
    watch_conn_ = nullptr;
  }
  Hold();
}

void SessionState::Watch(const std::vector<std::string_view>& args, std::string_view raw,
                         const CommandInfo& cmd) {
  int slot = CommandSlot(cmd, args, &key_positions_);
  std::string error = txn_.CheckWatch(slot);
  if (!error.empty()) {
    ReplyAndCount(
        absl::StartsWith(error, "-CROSSSLOT") ? ErrorKind::kCrossSlot : ErrorKind::kCommand, error);
    return;
  }
  if (watch_broken_) {  // EXEC answers nil whatever else is watched
    client_->Reply(resp::kOk);
    return;
  }
  call_ = Call();
  call_.kind = Call::Kind::kWatch;
  call_.slot = slot;
  if (raw.empty()) {
    EncodeCommand(args, &call_.command);
  } else {
    call_.command.assign(raw.data(), raw.size());
  }
  call_.request = client_->NewRequest();
  if (watch_conn_ != nullptr) {
    call_.conn = watch_conn_;
    call_.asking = watch_asking_;
  }
  Hold();
}

void SessionState::DropWatch() {
  if (watch_conn_ != nullptr) {
    watch_conn_->Write(kUnwatch);
    worker_->private_pool().ReleaseAfter(watch_conn_, 1);
    watch_conn_ = nullptr;
  }
  watch_asking_ = false;
  watch_broken_ = false;
}

void SessionState::Reset() {
  txn_.Reset();
  DropWatch();
  pubsub_.UnsubscribeAll();
  UpdateActive();
}

// --- blocking commands, PUBLISH, PUBSUB, WAIT ---

void SessionState::Blocking(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                            std::string_view raw) {
  int slot = CommandSlot(cmd, args, &key_positions_);
  if (slot == kCrossSlot) {
    ReplyAndCount(ErrorKind::kCrossSlot, errors::CrossSlot());
    return;
  }
  worker_->stats().blocking_commands.Add();
  call_ = Call();
  call_.kind = Call::Kind::kBlocking;
  call_.slot = slot;
  if (raw.empty()) {
    EncodeCommand(args, &call_.command);
  } else {
    call_.command.assign(raw.data(), raw.size());
  }
  call_.request = client_->NewRequest();
  Hold();
}

void SessionState::Publish(const std::vector<std::string_view>& args, std::string_view raw) {
  // To the channel's slot owner, where slotplane keeps the channel's subscribers (see
  // PubSubSession), so that the count it answers includes them. A plain request on a shared
  // connection: PUBLISH needs no connection state.
  const uint16_t slot = KeyHashSlot(args[1]);
  Request* request = client_->NewRequest();
  request->slot = slot;
  if (raw.empty()) {
    EncodeCommand(args, &request->command);
  } else {
    request->command.assign(raw.data(), raw.size());
  }
  worker_->forwarder().Forward(request, worker_->router().ForSlot(slot));
}

void SessionState::PubSubQuery(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                               std::string_view raw) {
  std::string_view name = Name(cmd);
  if (name == "pubsub|help" || name == "pubsub") {
    worker_->forwarder().ForwardToAnyMaster(client_, args);
    return;
  }
  std::vector<NodeAddress> masters = Masters(worker_);
  if (masters.empty()) {
    ReplyAndCount(ErrorKind::kClusterDown, errors::NoTopology());
    return;
  }
  std::string payload;
  if (raw.empty()) {
    EncodeCommand(args, &payload);
  } else {
    payload.assign(raw.data(), raw.size());
  }
  call_ = Call();
  call_.kind = Call::Kind::kFanout;
  for (NodeAddress& address : masters) call_.parts.push_back({std::move(address), payload, 1});
  std::string subcommand(name);
  call_.reduce = [subcommand](std::vector<std::string>& answers) {
    return MergePubSubAnswers(subcommand, answers);
  };
  call_.request = client_->NewRequest();
  Hold();
}

void SessionState::Wait(const std::vector<std::string_view>& args, std::string_view raw) {
  std::vector<NodeAddress> masters = Masters(worker_);
  if (masters.empty()) {
    ReplyAndCount(ErrorKind::kClusterDown, errors::NoTopology());
    return;
  }
  std::string wait;
  if (raw.empty()) {
    EncodeCommand(args, &wait);
  } else {
    wait.assign(raw.data(), raw.size());
  }
  call_ = Call();
  call_.kind = Call::Kind::kFanout;
  for (NodeAddress& address : masters) {
    NodeFanout::Part part{address, "", 1};
    // A key of a slot this master owns, for the marker write.
    for (int i = 0; i < kMaxMarkerKeyTries; ++i) {
      std::string key = absl::StrCat("slotplane:wait:{", i, "}");
      BackendConn* owner = worker_->router().ForSlot(KeyHashSlot(key));
      if (owner == nullptr || !(owner->address() == address)) continue;
      resp::AppendArrayHeader(&part.payload, 4);
      resp::AppendBulk(&part.payload, "EVAL");
      resp::AppendBulk(&part.payload, kWaitMarkerScript);
      resp::AppendBulk(&part.payload, "1");
      resp::AppendBulk(&part.payload, key);
      part.frames = 2;
      break;
    }
    part.payload += wait;
    call_.parts.push_back(std::move(part));
  }
  call_.reduce = [](std::vector<std::string>& answers) { return MergeWaitAnswers(answers); };
  call_.request = client_->NewRequest();
  Hold();
}

// --- private calls ---

void SessionState::Hold() {
  client_->Hold();
  if (client_->IsHead(call_.request)) {
    Launch();
  } else {
    client_->NotifyWhenHead(call_.request);
  }
}

void SessionState::OnBarrier() {
  if (call_.kind != Call::Kind::kNone) Launch();
}

void SessionState::Launch() {
  if (call_.kind == Call::Kind::kFanout) {
    fanout_.Start(std::move(call_.parts), [this](std::vector<std::string>& answers) {
      std::string reply = call_.reduce(answers);
      FinishCall(reply);
    });
    return;
  }
  SendCall();
}

void SessionState::SendCall() {
  if (call_.conn == nullptr) {
    BackendConn* owner = call_.slot >= 0
                             ? worker_->router().ForSlot(static_cast<uint16_t>(call_.slot))
                             : worker_->router().AnyMaster();
    if (owner == nullptr) {
      worker_->stats().CountError(ErrorKind::kClusterDown);
      FinishCall(worker_->router().view() == nullptr ? errors::NoTopology()
                                                     : errors::SlotNotServed());
      return;
    }
    call_.conn = worker_->private_pool().Acquire(owner->address(), this);
  }
  scratch_.clear();
  size_t frames = 1;
  if (call_.asking) {
    scratch_.append(kAsking.data(), kAsking.size());
    ++frames;
  }
  if (call_.kind == Call::Kind::kExec) {
    txn_.AppendExecBlock(&scratch_);
    frames += txn_.queued() + 1;  // MULTI, each command, EXEC
  } else {
    scratch_ += call_.command;
  }
  call_.frames_left = frames;
  call_.frames_seen = 0;
  call_.redirect = Redirect();
  call_.conn->Write(scratch_);
  worker_->stats().commands_forwarded.Add();
}

void SessionState::OnPrivateFrame(PrivateConn* conn, std::string_view frame) {
  if (conn == call_.conn && call_.kind != Call::Kind::kNone && call_.frames_left > 0) {
    OnCallFrame(frame);
    return;
  }
  // Nothing is expected on an idle WATCH connection: its state is unknown now.
  SP_LOG(kDebug) << "unexpected frame on a private connection to " << conn->address_text();
  if (conn == watch_conn_) {
    watch_conn_ = nullptr;
    watch_broken_ = true;
  }
  worker_->private_pool().Discard(conn);
}

void SessionState::OnCallFrame(std::string_view frame) {
  const size_t index = call_.frames_seen++;
  --call_.frames_left;
  if (call_.asking && index == 0) return;  // ASKING's +OK
  if (call_.kind == Call::Kind::kExec && call_.frames_left > 0) {
    // MULTI's +OK, then +QUEUED or a refusal per command. A redirect means the node does not
    // own the slot (any more): it aborts the transaction, so nothing runs.
    const size_t multi_index = call_.asking ? 1 : 0;
    if (index > multi_index && frame[0] == '-' && call_.redirect.kind == RedirectKind::kNone) {
      call_.redirect = ParseRedirect(frame);
    }
    return;
  }
  if (call_.frames_left > 0) return;
  Redirect redirect = call_.redirect;
  if (call_.kind != Call::Kind::kExec && frame[0] == '-') redirect = ParseRedirect(frame);
  if (redirect.kind != RedirectKind::kNone) {
    RetryCall(redirect, frame);
  } else {
    FinishCall(frame);
  }
}

void SessionState::RetryCall(const Redirect& given, std::string_view reply) {
  Redirect redirect = given;
  if (redirect.address.host.empty()) redirect.address.host = call_.conn->address().host;
  const ProxyPolicy& policy = worker_->policy();
  // A watched transaction cannot move: the watches are on this node. EXEC answers nil, as if a
  // watched key had changed, and the client's retry watches on the new owner.
  const bool pinned = (call_.kind == Call::Kind::kExec && txn_.watching()) ||
                      (call_.kind == Call::Kind::kWatch && watch_conn_ != nullptr);
  if (pinned) {
    if (redirect.kind == RedirectKind::kMoved) {
      worker_->router().OnMoved(redirect.slot, redirect.address);
      worker_->forwarder().RequestTopologyRefresh();
    }
    if (call_.kind == Call::Kind::kWatch) {
      watch_broken_ = true;
      FinishCall(resp::kOk);
    } else {
      FinishCall(kNil);
    }
    return;
  }
  if (redirect.kind == RedirectKind::kTryAgain) {
    if (call_.tryagains >= policy.tryagain_retries) {
      FinishCall(reply);  // for EXEC, the node's EXECABORT
      return;
    }
    worker_->stats().tryagain_retries.Add();
    int delay_ms = 10 << std::min<int>(call_.tryagains++, 5);
    worker_->private_pool().Release(call_.conn);
    call_.conn = nullptr;
    retry_timer_ = worker_->loop().RunAfter(delay_ms, [this] {
      retry_timer_ = 0;
      SendCall();
    });
    return;
  }
  if (call_.redirects >= policy.max_redirects) {
    worker_->stats().CountError(ErrorKind::kRedirectLimit);
    FinishCall(errors::TooManyRedirects(redirect.slot));
    return;
  }
  ++call_.redirects;
  worker_->private_pool().Release(call_.conn);
  if (redirect.kind == RedirectKind::kMoved) {
    worker_->stats().moved_redirects.Add();
    worker_->router().OnMoved(redirect.slot, redirect.address);
    worker_->forwarder().RequestTopologyRefresh();
    call_.asking = false;
  } else {
    worker_->stats().ask_redirects.Add();
    call_.asking = true;
  }
  call_.conn = worker_->private_pool().Acquire(redirect.address, this);
  SendCall();
}

void SessionState::FinishCall(std::string_view reply) {
  Call call = std::move(call_);
  call_ = Call();
  switch (call.kind) {
    case Call::Kind::kExec:
      txn_.Finish();
      watch_asking_ = false;
      watch_broken_ = false;
      if (call.conn != nullptr) worker_->private_pool().Release(call.conn);
      break;
    case Call::Kind::kWatch:
      if (reply == resp::kOk) {
        if (watch_conn_ == nullptr) {
          watch_conn_ = call.conn;
          watch_asking_ = call.asking;
        }
        txn_.Watched(call.slot);
      } else if (watch_conn_ == nullptr && call.conn != nullptr) {
        worker_->private_pool().Release(call.conn);  // nothing is watched on it
      }
      break;
    case Call::Kind::kBlocking:
      if (call.conn != nullptr) worker_->private_pool().Release(call.conn);
      break;
    case Call::Kind::kFanout:
    case Call::Kind::kNone:
      break;
  }
  client_->Complete(call.request, reply);
  UpdateActive();
  client_->Resume();
}

void SessionState::OnPrivateConnLost(PrivateConn* conn, const std::string& error) {
  worker_->private_pool().Discard(conn);
  if (conn == call_.conn && call_.kind != Call::Kind::kNone) {
    call_.conn = nullptr;
    if (conn == watch_conn_) {  // a WATCH on the connection holding earlier ones
      watch_conn_ = nullptr;
      watch_broken_ = true;
    }
    worker_->stats().CountError(ErrorKind::kBackendUnavailable);
    FinishCall(error);
    return;
  }
  if (conn == watch_conn_) {
    // The watches died with the connection: EXEC answers nil and the client retries.
    watch_conn_ = nullptr;
    watch_broken_ = true;
  }
}

void SessionState::OnClientClosed() {
  worker_->loop().Cancel(retry_timer_);
  retry_timer_ = 0;
  PrivatePool& pool = worker_->private_pool();
  if (call_.conn != nullptr) {
    const bool sent = call_.frames_left > 0;
    switch (call_.kind) {
      case Call::Kind::kBlocking:
        pool.Discard(call_.conn);  // its reply may come much later
        break;
      case Call::Kind::kExec:
      case Call::Kind::kWatch:
        if (call_.kind == Call::Kind::kExec && sent) {
          pool.ReleaseAfter(call_.conn, call_.frames_left);  // EXEC clears the watches
        } else {
          call_.conn->Write(kUnwatch);
          pool.ReleaseAfter(call_.conn, call_.frames_left + 1);
        }
        if (call_.conn == watch_conn_) watch_conn_ = nullptr;
        break;
      default:
        pool.Discard(call_.conn);
        break;
    }
  }
  if (call_.request != nullptr) worker_->pool().Release(call_.request);  // detached by Close
  call_ = Call();
  fanout_.Cancel();
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
