#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/cluster_view.h"
#include "dataplane/backend/private_conn.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// A client's own connections to the cluster, one per node it talks to, for a client that turned
// multiplexing off (PROXY MULTIPLEXING OFF, or disable-multiplexing always): its routed commands
// travel on them instead of the worker's shared connections, pipelined in FIFO order per node,
// with MOVED, ASK and TRYAGAIN followed as on shared connections. Worker thread only; owned by the
// client's SessionState.
class PrivateLink : public PrivateConnUser {
 public:
  PrivateLink(WorkerContext* worker, ClientSession* client) : worker_(worker), client_(client) {}
  ~PrivateLink();
  PrivateLink(const PrivateLink&) = delete;
  PrivateLink& operator=(const PrivateLink&) = delete;

  // Sends `request` (in the client's reply queue, `command` and `slot` set) to `address`.
  void Send(Request* request, const NodeAddress& address);
  // The client disconnected: requests in flight are dropped; connections go back to the pool
  // once their replies are in.
  void OnClientClosed();

  // --- PrivateConnUser ---
  void OnPrivateFrame(PrivateConn* conn, std::string_view frame) override;
  void OnPrivateConnLost(PrivateConn* conn, const std::string& error) override;

 private:
  struct Node {
    PrivateConn* conn = nullptr;
    Request* head = nullptr;  // in-flight FIFO through Request::next_in_backend
    Request* tail = nullptr;
    size_t in_flight = 0;
  };
  Node* NodeAt(const NodeAddress& address);
  void Enqueue(Node* node, Request* request);
  Request* PopFront(Node* node);
  void HandleReply(PrivateConn* conn, Request* request, std::string_view reply);
  void Deliver(Request* request, std::string_view reply);

  WorkerContext* worker_;
  ClientSession* client_;
  absl::flat_hash_map<PrivateConn*, std::unique_ptr<Node>> nodes_;
  absl::flat_hash_map<std::string, Node*> by_address_;
  // TRYAGAIN retries waiting for their timer: cancelled if the client leaves.
  std::vector<std::pair<EventLoop::TimerId, Request*>> retries_;
};

}  // namespace slotplane::dataplane
