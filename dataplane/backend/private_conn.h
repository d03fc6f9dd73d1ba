#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/cluster_view.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/backend/backend_socket.h"
#include "dataplane/net/event_loop.h"

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
// sent. Its BackendSocket sends AUTH with the backend credentials first, like shared connections,
// and consumes the answer. Owned by the worker's PrivatePool, which deletes it only between
// event-loop passes.
class PrivateConn final : public EventHandler, private BackendSocket::Listener {
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

  // Forwards to the socket, which is what the event loop calls.
  void OnEvents(uint32_t events) override;

  const NodeAddress& address() const { return socket_.address(); }
  const std::string& address_text() const { return socket_.address_text(); }
  // Speaks RESP3 (HELLO 3 at handshake): for a RESP3 client, whose replies pass through.
  bool resp3() const { return options_.resp3; }
  // Failed, lost or closed (or not opened yet): it never carries anything again.
  bool dead() const { return !socket_.open(); }
  // Clean for reuse by another client: nothing unread, unsent or still expected.
  bool quiet() const;

  // The node's CLIENT ID of this connection once a user asked for it (a blocking call, so that
  // CLIENT UNBLOCK can name it to the node); 0: not known. Kept while the connection lives.
  int64_t node_client_id = 0;

  // --- pool bookkeeping (PrivatePool only) ---
  PrivateConnUser* user = nullptr;
  size_t frames_to_drain = 0;  // frames the pool swallows before the connection is idle again
  bool idle = false;           // in the pool's idle list
  bool discarded = false;      // waiting for deletion
  bool flush_scheduled = false;

 private:
  // --- BackendSocket::Listener ---
  void OnSocketConnected() override {}
  void OnSocketFrame(std::string_view frame) override;
  void OnSocketFailed(const std::string& reason) override { Fail(reason, false); }
  void OnSocketLost(const std::string& reason) override { Fail(reason, true); }

  void Fail(const std::string& reason, bool was_connected);

  PrivatePool* pool_;
  BackendOptions options_;
  EventLoop::TimerId timer_ = 0;  // the deferred report of a connect that failed at once
  BackendSocket socket_;          // last: it reports to the members above
};

}  // namespace slotplane::dataplane
