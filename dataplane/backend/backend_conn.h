#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/cluster_view.h"
#include "dataplane/backend/backend_socket.h"
#include "dataplane/core/backend_node_stats.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_scanner.h"

namespace slotplane::dataplane {

class BackendConn;
struct WorkerStats;

// How a request failed on a backend connection: what its owner may safely do with it.
enum class FailKind {
  kNotSent,   // never reached the node (refused, unreachable, backoff): safe to send again
  kMaybeRun,  // written to a connection that was lost: the node may or may not have run it
  kTimedOut,  // the node did not answer within backend-timeout (written or queued behind)
};

// What a backend connection needs from its worker. The seam that unit tests replace.
class BackendOwner {
 public:
  virtual EventLoop& loop() = 0;
  virtual RequestPool& pool() = 0;
  virtual WorkerStats& stats() = 0;
  // Asks for a Flush() before the loop sleeps (batched writes).
  virtual void ScheduleFlush(BackendConn* conn) = 0;
  // A reply frame for `request` (never internal). `reply` is valid only during the call.
  virtual void OnBackendReply(BackendConn* conn, Request* request, std::string_view reply) = 0;
  // `request` gets `error` (a full RESP error line) instead of a reply, or, depending on `kind`,
  // is sent again elsewhere (the owner decides).
  virtual void FailRequest(Request* request, const std::string& error, FailKind kind) = 0;
  // The connection failed or was lost; the owner may refresh the topology.
  virtual void OnBackendDown(BackendConn* conn) = 0;

 protected:
  ~BackendOwner() = default;
};

// One pipelined connection from a worker to one cluster node, shared by all the worker's clients.
// Requests are written in FIFO order and replies matched in the same order. Owned and used by one
// worker thread only.
//
// States: idle (no socket) → connecting → connected. A lost connection fails the requests already
// written (their fate is unknown) and reconnects at once for the ones not yet written; a failed
// connect fails everything queued and enters backoff, during which new requests fail fast with
// the reason, so a dead node never stalls clients.
//
// The socket, its handshake (AUTH, READONLY) and the reading and framing of replies are its
// BackendSocket's; the requests are written straight from their own buffers (no copy), through
// the socket's WriteSource.
class BackendConn : public EventHandler,
                    private BackendSocket::Listener,
                    private BackendSocket::WriteSource {
 public:
  BackendConn(BackendOwner* owner, NodeAddress address, const BackendOptions& options);
  ~BackendConn();
  BackendConn(const BackendConn&) = delete;
  BackendConn& operator=(const BackendConn&) = delete;

  // Queues `request` (its `command` holds the RESP bytes) and connects if needed.
  void Send(Request* request);
  // Queues ASKING then `request`, adjacent on the wire (the ASK redirection protocol).
  void SendAsking(Request* request);
  // Writes queued bytes with one writev; called by the owner before the loop sleeps.
  void Flush();
  // Closes the socket now, failing whatever is in flight. Used when the node left the topology.
  void Shutdown();
  // Makes this a READONLY connection from now on (a node that became a replica serves reads):
  // READONLY is queued at once when connected, and sent on every reconnect.
  void EnsureReadonly();

  // backend-timeout: whether a written request has waited for `timeout_ms` or more with no reply
  // from the node (at `now_ms`). Replies in order restart the wait: what is measured is the time
  // the node made no progress, so a long pipeline the node keeps answering never times out.
  bool Overdue(int64_t now_ms, int timeout_ms) const {
    return written_outstanding() && now_ms - waiting_since_ms_ >= timeout_ms;
  }
  // Closes the connection of an Overdue node and fails everything queued on it (written or not)
  // with the timeout error; the next request reconnects.
  void TimeOut(int timeout_ms);

  // Forwards to the socket, which is what the event loop calls.
  void OnEvents(uint32_t events) override;

  const NodeAddress& address() const { return socket_.address(); }
  const std::string& address_text() const { return socket_.address_text(); }
  bool idle() const { return head_ == nullptr && (resp3_ == nullptr || resp3_->idle()); }
  bool connected() const { return state_ == State::kConnected; }
  bool down() const { return state_ == State::kBackoff; }
  const std::string& last_error() const { return last_error_; }
  bool readonly() const { return options_.readonly; }
  size_t in_flight() const { return in_flight_; }
  // Replies, redirects, failures and reconnects seen on this connection (per-node metrics).
  const BackendNodeStats& node_stats() const { return node_stats_; }

  // The connection to the same node that speaks RESP3 (HELLO 3 at handshake), for RESP3 clients,
  // whose replies then pass through verbatim: created on first use, so RESP2-only clients never
  // open it. Owned by this (RESP2) connection: shut down, made READONLY and collected with it.
  // Called on a RESP3 connection, returns itself.
  BackendConn* Resp3();
  // The RESP3 sibling if it was opened, else null (timeouts, metrics).
  BackendConn* resp3_sibling() const { return resp3_.get(); }
  bool resp3() const { return options_.resp3; }

  // Whether the current slot table points at this node; an unreferenced node stops reconnecting.
  void set_referenced(bool referenced) {
    referenced_ = referenced;
    if (resp3_ != nullptr) resp3_->set_referenced(referenced);
  }
  bool referenced() const { return referenced_; }

  bool flush_scheduled = false;  // owned by the worker's flush list

 private:
  enum class State { kIdle, kConnecting, kConnected, kBackoff };

  // --- BackendSocket::Listener ---
  void OnSocketConnected() override;
  void OnSocketFrame(std::string_view frame) override;
  void OnSocketFailed(const std::string& reason) override { OnConnectFailed(reason); }
  void OnSocketLost(const std::string& reason) override { OnConnectionLost(reason); }
  // --- BackendSocket::WriteSource: the unsent part of the FIFO ---
  int GatherUnsent(iovec* iov, int max) override;
  void ConsumeUnsent(size_t n) override;
  bool HasUnsent() const override { return unsent_ != nullptr; }

  // Some request was written (wholly or partly) and has no reply yet.
  bool written_outstanding() const {
    return head_ != nullptr && (head_ != unsent_ || unsent_offset_ > 0);
  }
  void Enqueue(Request* request);
  Request* PopFront();
  Request* NewInternal(std::string_view command);
  void Connect();
  void OnConnectFailed(const std::string& reason);
  void OnConnectionLost(const std::string& reason);
  void FailAll(const std::string& error, FailKind kind);
  // Releases an internal request (ASKING, READONLY), or fails a client's with `error`.
  void Drop(Request* request, const std::string& error, FailKind kind);
  void ScheduleReconnect();

  BackendOwner* owner_;
  BackendOptions options_;
  State state_ = State::kIdle;
  bool referenced_ = true;

  // In-flight FIFO: [head_ .. unsent_) written, [unsent_ .. tail_] waiting to be written.
  Request* head_ = nullptr;
  Request* tail_ = nullptr;
  Request* unsent_ = nullptr;
  size_t unsent_offset_ = 0;  // bytes of unsent_->command already written
  size_t in_flight_ = 0;
  // Since when the oldest written request has waited: set when a write starts with nothing
  // outstanding, and at every reply (backend-timeout).
  int64_t waiting_since_ms_ = 0;

  std::string last_error_;
  int backoff_ms_ = 0;
  EventLoop::TimerId reconnect_timer_ = 0;
  BackendNodeStats node_stats_;
  std::unique_ptr<BackendConn> resp3_;  // see Resp3()
  BackendSocket socket_;                // last: it reports to the members above
};

}  // namespace slotplane::dataplane
