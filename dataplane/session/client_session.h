#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/output_buffer_limits.h"
#include "dataplane/command/user_acl.h"
#include "dataplane/net/batched_writer.h"
#include "dataplane/net/buffer.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/net/tls_stream.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/request_parser.h"
#include "dataplane/session/connection_state.h"

namespace slotplane::dataplane {

class WorkerContext;

// One client connection: reads and parses its commands, hands each to the worker's CommandSink
// (the dispatcher), and writes the replies back in request order. Owned by its worker's
// ClientRegistry; worker thread only.
//
// Replies: every command gets a Request in the reply queue at parse time. A reply that completes
// while it is at the head of the queue goes straight into the output buffer; one that completes
// early is parked in its Request until those ahead of it are done.
//
// Memory (see README.md): the reply bytes the proxy holds for the client (output buffer plus
// parked replies) are checked against Redis's client-output-buffer-limit (the normal class, or
// pubsub while subscribed) in the loop pass a reply arrives; past it the client is closed before
// the loop sleeps, as Redis's "closed ASAP". Input stops being read while the client has too many
// requests in flight or too many reply bytes unsent (backpressure), and the unparsed input is
// bounded by client-query-buffer-limit.
//
// Buffers: the input and output buffers borrow their memory from the worker's BufferPool
// (net/buffer_pool.h) only while they hold bytes: input from a read until every command in it is
// parsed and dispatched, output from a reply until it is all written. An idle client holds no
// buffer; a partial command or a partly written reply keeps its buffer until it completes. So the
// bytes of a command (CommandSink::Dispatch's args and raw form) are valid during Dispatch only:
// once the input is drained its block may serve another client in the same loop pass.
//
// Writes: with the io_uring engine a plain-TCP client's output goes out as a batched write
// (EventLoop::QueueWrite) at the end of the pass, and what follows a write (closing after the
// last reply, resuming input) runs when its result comes back; TLS clients write directly.
class ClientSession : public EventHandler, public ReplySink, public BatchedWriter {
 public:
  // `tls`: a client of the TLS listener, whose handshake runs before its first command.
  ClientSession(WorkerContext* worker, int fd, uint64_t id, std::string peer,
                std::unique_ptr<TlsStream> tls = nullptr);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  void OnEvents(uint32_t events) override;
  int GatherWrite(iovec* iov, int max) override;
  void OnWritten(ssize_t result) override;

  // Appends a new Request to the reply queue. The first one after StampCommand carries the stamp.
  // While replies are off or skipped (CLIENT REPLY), it is silent: its reply is dropped.
  Request* NewRequest();
  // The command being dispatched: its first reply-queue entry records its latency and outcome
  // when it completes (WorkerContext::command_stats). Replies that answer no command (pub/sub
  // pushes, a command's further replies) take no stamp.
  void StampCommand(const CommandStamp& stamp) { stamp_ = stamp; }
  // `request`'s reply is `reply` (a whole RESP frame).
  void Complete(Request* request, std::string_view reply);
  // Shorthand for a reply the proxy produces itself.
  void Reply(std::string_view reply) { Complete(NewRequest(), reply); }

  // --- ReplySink: the forwarder's replies to this client's requests ---
  void OnReply(Request* request, std::string_view reply) override { Complete(request, reply); }
  bool WantsReply(const Request*) const override { return true; }

  // --- CLIENT REPLY, with Redis's semantics (networking.c): OFF drops every reply until ON; SKIP
  // drops the replies of the next command (and anything pushed before it runs); ON undoes both.
  // A reply is dropped or not as decided when its request joins the queue, so a reply that
  // arrives later follows the mode its command ran under.
  // Once per command, before anything else (CommandDispatcher::Dispatch): a SKIP asked by the
  // previous command applies to this one.
  void BeginCommand() {
    skip_current_ = skip_next_;
    skip_next_ = false;
  }
  // CLIENT REPLY ON: replies flow again, starting with this command's own +OK.
  void RepliesOn() { replies_off_ = skip_current_ = skip_next_ = false; }
  // CLIENT REPLY OFF: from this command's own reply on.
  void RepliesOff() { replies_off_ = true; }
  // CLIENT REPLY SKIP: this command's reply and the next command's are dropped; nothing when
  // replies are off.
  void SkipNextReply() {
    if (replies_off_) return;
    skip_current_ = skip_next_ = true;
  }
  // RESET: OFF and a pending SKIP are forgotten (Redis's clearClientConnectionState), but a SKIP
  // that applies to RESET itself still drops its reply.
  void ResetReplyMode() { replies_off_ = skip_next_ = false; }
  bool replies_off() const { return replies_off_; }

  // Stops reading; closes once every queued reply was written (QUIT, protocol errors).
  void CloseAfterReplies();
  // Whether the `timeout` (ms, > 0) of idle clients has passed for this client at `now_ms`.
  // Clients waiting for replies, held by a private call (a blocking command) or subscribed are
  // never idle, as Redis exempts blocked and pub/sub clients.
  bool IdleLongerThan(int64_t timeout_ms, int64_t now_ms) const;
  // Writes buffered output; called by the worker before the loop sleeps.
  void Flush();
  // Closes the socket at once and detaches queued requests (their replies will be dropped).
  void Close();

  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  // False until AUTH succeeds when the policy requires a password (see client_auth.h).
  bool authenticated() const { return authenticated_; }
  void set_authenticated(bool authenticated) { authenticated_ = authenticated; }
  // The user this connection authenticated as (empty: none, or the implicit default user).
  const std::string& user() const { return user_; }
  void set_user(std::string user) { user_ = std::move(user); }
  // The ACL of that user (null: it may run everything); set with the user and again whenever the
  // policy changes (BindUser, client_auth.h). Held, so a policy swap never leaves it dangling.
  const UserAcl* acl() const { return acl_.get(); }
  void set_acl(UserAclPtr acl) { acl_ = std::move(acl); }
  // The protocol the client chose with HELLO (2 or 3; RESET and new connections: 2). Requests
  // created from now on carry it (Request::resp3), so their replies come in this protocol.
  bool resp3() const { return resp3_; }
  void set_resp3(bool resp3) { resp3_ = resp3; }
  bool closed() const { return fd_ < 0; }
  size_t pending() const { return pending_; }
  int64_t created_ms() const { return created_ms_; }

  bool flush_scheduled = false;  // owned by the worker's flush list

  // --- connection state (stateful/session_state.h) ---
  // Non-null while the client is in a mode (inside MULTI, watching, subscribed, multiplexing
  // off): the dispatcher hands it every command first. Null on shared connections.
  ConnectionState* state() const { return state_; }
  // The client's connection state, active or not; null until installed (SessionState::Of).
  ConnectionState* installed_state() const { return state_storage_.get(); }
  void InstallState(std::unique_ptr<ConnectionState> state) { state_storage_ = std::move(state); }
  void SetStateActive(bool active);
  // Stops dispatching this client's commands (a private call is in flight) until Resume(); its
  // input is still read, so a disconnect is seen.
  void Hold() { held_ = true; }
  void Resume();
  bool IsHead(const Request* request) const { return head_ == request; }
  // Calls the SessionState's OnBarrier() once `request` reaches the head of the reply queue.
  void NotifyWhenHead(Request* request) { barrier_ = request; }

  // Nothing to finish: no reply pending in the queue, no split part in flight, no private call
  // held and no output unsent (SIGTERM drain).
  bool Drained() const {
    return pending_ == 0 && in_flight_parts_ == 0 && !held_ && output_.size() == 0;
  }
  // Parts of this client's split and fan-out commands still in flight (see multi_request.h):
  // they count towards the backpressure limit like queued requests.
  void AddInFlightParts(int64_t delta) { in_flight_parts_ += delta; }
  // Subscribed clients fall under the pubsub class of client-output-buffer-limit (set by
  // stateful/PubSubSession when the client enters or leaves subscribed mode).
  void set_subscribed(bool subscribed) { subscribed_ = subscribed; }
  bool subscribed() const { return subscribed_; }
  // CLIENT TRACKING on (stateful/client_tracking.h): the dispatcher shows it its commands.
  bool tracking() const { return tracking_; }
  void set_tracking(bool tracking) { tracking_ = tracking; }
  // Reply bytes held for this client: unsent output plus replies parked behind an earlier one.
  size_t reply_bytes() const { return output_.size() + parked_bytes_; }

  // What CLIENT LIST / CLIENT INFO show (see local/client_subcommands.h).
  struct Attributes {
    std::string lib_name;
    std::string lib_ver;
    const char* last_command = "NULL";  // full name of the last command ("client|list")
    int64_t last_active_ms = 0;         // loop time of the last command
    bool no_evict = false;
  };
  Attributes& attributes() { return attributes_; }
  int fd() const { return fd_; }
  size_t input_buffered() const { return input_.size(); }
  size_t output_buffered() const { return output_.size(); }
  // Whether the input or output buffer holds memory now (false for an idle client).
  bool holds_buffers() const { return input_.holds_memory() || output_.holds_memory(); }

 private:
  void ReadInput();
  void ContinueHandshake();
  // The raw transfer: read(2) and write(2) semantics, through TLS for a TLS client.
  ssize_t ReadSome(char* data, size_t size);
  ssize_t WriteSome(const char* data, size_t size);
  // Writes a large reply at the head of the queue straight to the socket when it can; returns the
  // part still to append to the output. See client_session.cc.
  std::string_view WriteDirect(std::string_view reply);
  // The epoll path's write: write(2) until done or EAGAIN; false when the client was closed.
  bool WriteOutput();
  // What follows a write: closing a drained closing client, resuming input, the interest.
  void AfterWrite();
  // io_uring and plain TCP: output goes out as batched writes.
  bool BatchesWrites() const;
  void ProcessInput();
  bool Overloaded() const;
  void CheckOutputLimits();
  bool SoftLimitExpired(const OutputBufferLimit& limit, size_t used);
  void CloseForOutputLimit(size_t used);
  void UpdateInterest();
  void ScheduleFlush();

  WorkerContext* worker_;
  int fd_;
  std::unique_ptr<TlsStream> tls_;  // null: plain TCP
  const uint64_t id_;
  const std::string peer_;
  std::string name_;
  std::string user_;
  UserAclPtr acl_;
  int64_t created_ms_;

  Buffer input_;
  Buffer output_;
  RequestParser parser_;
  Attributes attributes_;
  int64_t in_flight_parts_ = 0;
  size_t parked_bytes_ = 0;           // reply bytes parked in requests behind the head
  int64_t soft_limit_since_ms_ = -1;  // when reply bytes reached the soft limit; -1: below
  int64_t last_interaction_ms_;       // loop time of the last read or write of bytes
  Request* head_ = nullptr;           // reply queue, oldest first
  Request* tail_ = nullptr;
  size_t pending_ = 0;
  uint32_t registered_events_ = 0;
  bool write_queued_ = false;   // batched: a write of output_ is queued or in flight
  bool write_blocked_ = false;  // batched: the last write was short; waiting for EPOLLOUT
  bool closing_ = false;        // no more input; close when the queue and output drain
  bool paused_ = false;         // input paused for backpressure
  bool held_ = false;           // dispatching held for a private call
  bool resume_input_ = false;
  bool close_asap_ = false;  // over the output buffer limit: no more output, close at the flush
  bool subscribed_ = false;
  bool tracking_ = false;             // CLIENT TRACKING on
  bool resp3_ = false;                // HELLO 3
  bool replies_off_ = false;          // CLIENT REPLY OFF
  bool skip_current_ = false;         // the command being run had its replies skipped
  bool skip_next_ = false;            // CLIENT REPLY SKIP: the next command's replies are skipped
  ConnectionState* state_ = nullptr;  // the active state, or null
  Request* barrier_ = nullptr;
  CommandStamp stamp_;  // for the next NewRequest
  std::unique_ptr<ConnectionState> state_storage_;
  bool authenticated_;
};

}  // namespace slotplane::dataplane
