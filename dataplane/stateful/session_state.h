#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/backend/private_conn.h"
#include "dataplane/command/command_table.h"
#include "dataplane/core/errors.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/router/redirect.h"
#include "dataplane/session/connection_state.h"
#include "dataplane/stateful/node_fanout.h"
#include "dataplane/stateful/private_link.h"
#include "dataplane/stateful/pubsub_session.h"
#include "dataplane/stateful/transaction.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;
struct Request;

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
// Private calls (EXEC, WATCH, blocking commands, WAIT, PUBSUB queries) hold the client: the call
// is sent once every earlier reply of the client is in (so it sees the client's earlier writes)
// and the client's next commands wait until it is answered (so they see its effects), as on a
// single Redis connection. Each runs on a private connection from the worker's PrivatePool that
// goes back to the pool when its state is clean again.
//
// Transactions: MULTI and the queued commands are answered here; EXEC sends MULTI, the commands
// and EXEC in one write to the master of the transaction's slot, on the connection that holds
// the client's WATCH if there is one. If a queued command was redirected (the slot moved since),
// the node aborted the transaction and nothing ran: without WATCH it runs again on the new owner
// (at most max-redirects times); with WATCH, EXEC answers nil as if a watched key had changed,
// since the watch was on the old owner — the client's retry then watches on the new one.
//
// Blocking commands run on a private connection to their slot's master and follow MOVED, ASK and
// TRYAGAIN there (a redirect restarts the full timeout). A client that disconnects while blocked
// gets its connection closed: the reply would arrive later.
//
// WAIT numreplicas timeout runs on every master, each on a private connection that first makes
// one replicated no-op write (a script that sets and deletes a reserved key), so that the node's
// WAIT covers every write made before it; the answer is the smallest count.
class SessionState : public ConnectionState, public PrivateConnUser {
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
  bool Intercept(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                 std::string_view raw) override;
  // A command of RouteClass::kPrivate, or XREAD/XREADGROUP with BLOCK.
  void DispatchPrivate(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                       std::string_view raw);
  // The dispatcher refused a command with an error (unknown, wrong arity): inside MULTI, EXEC
  // will abort.
  void OnRejected() override;
  // PROXY MULTIPLEXING OFF: this client's commands use its own connections from now on.
  void DisableMultiplexing();
  // Whether the client is on shared connections (PROXY MULTIPLEXING STATUS).
  bool multiplexed() const;

  // The held request reached the head of the client's reply queue: the call may go.
  void OnBarrier() override;
  void OnClientClosed() override;
  void OnClientFlushed() override { pubsub_.OnClientFlushed(); }

  // --- PrivateConnUser (the call's connection and the WATCH connection) ---
  void OnPrivateFrame(PrivateConn* conn, std::string_view frame) override;
  void OnPrivateConnLost(PrivateConn* conn, const std::string& error) override;

 private:
  // The private call in flight: at most one, since it holds the client.
  struct Call {
    enum class Kind { kNone, kWatch, kExec, kBlocking, kFanout } kind = Kind::kNone;
    Request* request = nullptr;  // the client's place in its reply queue
    PrivateConn* conn = nullptr;
    std::string command;  // WATCH or the blocking command; for EXEC the block is rebuilt
    int slot = kNoKeySlot;
    bool asking = false;  // send ASKING first (after an ASK redirect)
    size_t frames_left = 0;
    size_t frames_seen = 0;
    Redirect redirect;  // EXEC: the first redirect among the queued commands' answers
    uint8_t redirects = 0;
    uint8_t tryagains = 0;
    std::vector<NodeFanout::Part> parts;                           // kFanout
    std::function<std::string(std::vector<std::string>&)> reduce;  // kFanout
  };

  void HandleSubscribed(const CommandInfo& cmd, const std::vector<std::string_view>& args);
  void QueueInMulti(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                    std::string_view raw);
  void RouteOnLink(const CommandInfo& cmd, int slot, const std::vector<std::string_view>& args,
                   std::string_view raw);
  void Exec();
  void Watch(const std::vector<std::string_view>& args, std::string_view raw,
             const CommandInfo& cmd);
  void Blocking(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                std::string_view raw);
  void Publish(const std::vector<std::string_view>& args, std::string_view raw);
  void PubSubQuery(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                   std::string_view raw);
  void Wait(const std::vector<std::string_view>& args, std::string_view raw);
  // Forgets the transaction, the watches and the subscriptions (RESET).
  void Reset();
  // Gives the WATCH connection back (writing UNWATCH first).
  void DropWatch();

  // Holds the client and starts the call once its request is at the head of the reply queue.
  void Hold();
  void Launch();
  void SendCall();
  void OnCallFrame(std::string_view frame);
  void FinishCall(std::string_view reply);
  void RetryCall(const Redirect& redirect, std::string_view reply);
  void ReplyAndCount(ErrorKind kind, const std::string& error);
  // Makes ClientSession::state() reflect whether the client is in a mode.
  void UpdateActive();

  WorkerContext* worker_;
  ClientSession* client_;
  Transaction txn_;
  PrivateConn* watch_conn_ = nullptr;  // holds the client's WATCHes
  bool watch_asking_ = false;          // the watch went to an importing node after ASK
  bool watch_broken_ = false;          // the watch no longer protects the keys: EXEC is nil
  bool multiplexing_off_ = false;
  Call call_;
  EventLoop::TimerId retry_timer_ = 0;
  PubSubSession pubsub_;
  PrivateLink link_;
  NodeFanout fanout_;
  std::vector<int> key_positions_;
  std::string scratch_;
};

// PROXY MULTIPLEXING STATUS|OFF.
void ExecuteProxyMultiplexing(WorkerContext* worker, ClientSession* client,
                              const std::vector<std::string_view>& args);

}  // namespace slotplane::dataplane
