#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/backend/private_conn.h"
#include "dataplane/command/client_command.h"
#include "dataplane/command/command_table.h"
#include "dataplane/core/errors.h"
#include "dataplane/session/connection_state.h"
#include "dataplane/stateful/blocking_call.h"
#include "dataplane/stateful/exec_call.h"
#include "dataplane/stateful/fanout_call.h"
#include "dataplane/stateful/private_call.h"
#include "dataplane/stateful/private_link.h"
#include "dataplane/stateful/pubsub_session.h"
#include "dataplane/stateful/script_call.h"
#include "dataplane/stateful/transaction.h"
#include "dataplane/stateful/watch_call.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// The slot of a command's keys: a hash slot, kNoKeySlot or kCrossSlot (see transaction.h).
// `scratch` is reused between calls.
int CommandSlot(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                std::vector<int>* scratch);

// True for the commands that may block their connection: the blocking list and sorted-set pops,
// and XREAD/XREADGROUP with BLOCK.
bool IsBlockingCall(const CommandInfo& cmd, const std::vector<std::string_view>& args);

// A client's connection state: everything that needs a backend connection of its own. Created
// on the client's first command of RouteClass::kPrivate; owned by its ClientSession. While the
// client is in a mode (inside MULTI, watching keys, subscribed, multiplexing off) the session
// hands every command here first (ClientSession::state() is non-null: the one branch the hot
// path pays); otherwise the client is back on shared connections. Worker thread only.
//
// Routing: while subscribed, a client may only (un)subscribe, PING, QUIT and RESET
// (PubSubSession). Inside MULTI, MULTI and the queued commands are answered here (Transaction)
// and EXEC sends the block (ExecCall). With multiplexing off, commands routed by slot or to any
// node travel on the client's own connections (PrivateLink). Private calls (EXEC, WATCH, blocking
// commands, scripts, WAIT, PUBSUB queries: private_call.h) hold the client until answered; at most
// one is in flight, and the hooks of ConnectionState and PrivateConnUser are forwarded to it. RESET
// forgets the transaction, the watches and the subscriptions.
class SessionState : public ConnectionState, public PrivateCall::Owner {
 public:
  SessionState(WorkerContext* worker, ClientSession* client);
  ~SessionState() override;
  SessionState(const SessionState&) = delete;
  SessionState& operator=(const SessionState&) = delete;

  // `client`'s state, installed on first use (the only ConnectionState a client ever gets).
  static SessionState* Of(ClientSession* client, WorkerContext* worker);
  // `client`'s state while it is in a mode, else null.
  static const SessionState* Active(const ClientSession* client);

  // --- ConnectionState ---
  // A command of a client in a mode. Returns false when the dispatcher should route it as usual.
  bool Intercept(const ClientCommand& command) override;
  // A command of RouteClass::kPrivate, XREAD/XREADGROUP with BLOCK, or a script call (EVAL, FCALL,
  // ...: Handler::kScript) outside MULTI.
  void DispatchPrivate(const ClientCommand& command);
  // The dispatcher refused a command with an error (unknown, wrong arity): inside MULTI, EXEC
  // will abort.
  void OnRejected() override;
  void OnTopologyChanged() override;
  // CLIENT PAUSE is in force for `command` (ClientPause::Postpones): the command waits, and the
  // client's later commands behind it, until the pause is over; it is then dispatched again
  // (checked every 10 ms, so CLIENT UNPAUSE on any worker frees it within that time).
  void Postpone(const ClientCommand& command);
  bool in_multi() const { return txn_.in_multi(); }
  // CLIENT UNBLOCK of this client (`error`: ERROR, else TIMEOUT): true when a blocking command
  // of its was blocked on a node and CLIENT UNBLOCK went there (BlockingCall::Unblock).
  bool Unblock(bool error);
  // PROXY MULTIPLEXING OFF: this client's commands use its own connections from now on.
  void DisableMultiplexing();
  // Whether the client is on shared connections (PROXY MULTIPLEXING STATUS).
  bool multiplexed() const;

  // The held request reached the head of the client's reply queue: the call may go.
  void OnBarrier() override;
  void OnClientClosed() override;
  void OnClientFlushed() override {}

  // --- PrivateConnUser (the call's connection and the WATCH connection) ---
  void OnPrivateFrame(PrivateConn* conn, std::string_view frame) override;
  void OnPrivateConnLost(PrivateConn* conn, const std::string& error) override;

  // --- PrivateCall::Owner ---
  void OnCallDone() override;

 private:
  void HandleSubscribed(const ClientCommand& command);
  void QueueInMulti(const ClientCommand& command);
  // Refuses what a transaction cannot queue; returns the refusal, or null.
  const char* RefusalInMulti(const ClientCommand& command);
  void RouteOnLink(const ClientCommand& command, int slot);
  void Multi();
  void Discard();
  // PUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT: to the home node (pubsub_placement.h).
  void ForwardToHome(const ClientCommand& command);
  void PubSubQuery(const ClientCommand& command);
  // Forgets the transaction, the watches and the subscriptions (RESET).
  void Reset();
  // Gives the WATCH connection back (writing UNWATCH first).
  void DropWatch();
  // Makes `call`, whose Start accepted the command, the call in flight: it holds the client.
  void Run(PrivateCall* call);
  void ReplyAndCount(ErrorKind kind, const std::string& error);
  // Makes ClientSession::state() reflect whether the client is in a mode.
  void UpdateActive();
  // The pause may be over: dispatches the postponed command again.
  void RetryPostponed();

  WorkerContext* worker_;
  ClientSession* client_;
  Transaction txn_;
  WatchedConn watches_;
  bool multiplexing_off_ = false;
  PubSubSession pubsub_;
  PrivateLink link_;
  WatchCall watch_call_;
  ExecCall exec_call_;
  BlockingCall blocking_call_;
  ScriptCall script_call_;
  FanoutCall fanout_call_;
  PrivateCall* call_ = nullptr;  // the call in flight: it holds the client
  std::vector<int> key_positions_;
  std::string scratch_;
  std::string postponed_;  // the wire form of the command CLIENT PAUSE holds
  EventLoop::TimerId pause_timer_ = 0;
};

// PROXY MULTIPLEXING STATUS|OFF.
void ExecuteProxyMultiplexing(WorkerContext* worker, ClientSession* client,
                              const std::vector<std::string_view>& args);

}  // namespace slotplane::dataplane
