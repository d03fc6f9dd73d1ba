#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/cluster_view.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/net/buffer.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/resp/reply_scanner.h"

namespace slotplane::dataplane {

class PrivateConn;
class PrivatePool;

// Whoever holds a PrivateConn: a client's transaction, blocking call, subscriptions or its own
// connections with multiplexing off. Worker thread only.
class PrivateConnUser {
 public:
  // One whole frame from the node: a reply, or a push in subscribed mode. `frame` is valid only
  // during the call. The user may release the connection from inside the call.
  virtual void OnPrivateFrame(PrivateConn* conn, std::string_view frame) = 0;
  // The connection failed to open or was lost; `error` is a full RESP error line. The user must
  // hand the connection back (PrivatePool::Discard) and never use it again.
  virtual void OnPrivateConnLost(PrivateConn* conn, const std::string& error) = 0;

 protected:
  ~PrivateConnUser() = default;
};

// A connection to one cluster node that serves one user at a time and carries connection state
// (WATCH, MULTI, a blocked command, subscriptions). Unlike BackendConn it never reconnects on its
// own: the state it carried is gone with the socket, so a loss is reported to the user instead.
// It does not match replies to requests either: every frame goes to the user, who knows what it
// sent. Sends AUTH with the backend credentials first, like shared connections, and consumes the
// answer. Owned by the worker's PrivatePool, which deletes it only between event-loop passes.
class PrivateConn final : public EventHandler {
 public:
  PrivateConn(PrivatePool* pool, NodeAddress address, const BackendOptions& options);
  ~PrivateConn();
  PrivateConn(const PrivateConn&) = delete;
  PrivateConn& operator=(const PrivateConn&) = delete;

  // Opens the socket. A failure is reported to the user on the next loop pass, never from
  // inside the caller's call.
  void Connect();
  // Queues RESP bytes; they leave with the pool's batched flush before the loop sleeps.
  void Write(std::string_view bytes);
  void Flush();
  // Closes the socket now, without telling anyone (the pool discards it).
  void Close();

  void OnEvents(uint32_t events) override;

  const NodeAddress& address() const { return address_; }
  const std::string& address_text() const { return address_text_; }
  bool dead() const { return state_ == State::kDead; }
  // Clean for reuse by another client: nothing unread, unsent or still expected.
  bool quiet() const;

  // --- pool bookkeeping (PrivatePool only) ---
  PrivateConnUser* user = nullptr;
  size_t frames_to_drain = 0;  // frames the pool swallows before the connection is idle again
  bool idle = false;           // in the pool's idle list
  bool discarded = false;      // waiting for deletion
  bool flush_scheduled = false;

 private:
  enum class State { kConnecting, kConnected, kDead };

  void OnConnectDone();
  void Fail(const std::string& reason, bool was_connected);
  void ReadFrames();
  // Returns false when the connection died or changed hands in a way that ends this read.
  bool HandleFrame(std::string_view frame);
  void UpdateInterest();
  void CloseSocket();

  PrivatePool* pool_;
  NodeAddress address_;
  std::string address_text_;
  BackendOptions options_;
  State state_ = State::kConnecting;
  int fd_ = -1;
  uint32_t registered_events_ = 0;
  bool auth_pending_ = false;
  size_t handling_size_ = 0;  // size of the frame being delivered, still in input_
  Buffer output_;
  Buffer input_;
  ReplyScanner scanner_;
  EventLoop::TimerId timer_ = 0;  // connect timeout, or the deferred failure report
};

}  // namespace slotplane::dataplane
