#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/core/proxy_context.h"
#include "dataplane/resp/request_parser.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"
#include "dataplane/dispatch/command_dispatch.h"
#include "dataplane/request/request.h"
#include "dataplane/core/worker_stats.h"

namespace slotplane::dataplane {

// A shared-nothing worker: one thread, one epoll loop, its own listeners (SO_REUSEPORT), client
// sessions, backend connections (one per cluster node) and counters. Other threads talk to it only
// through loop().Post(). Nothing on its request path takes a lock.
class Worker : public BackendOwner {
 public:
  Worker(int index, ProxyContext* context);
  ~Worker();

  // Opens this worker's listeners on every bind address.
  absl::Status Listen();
  void Start();
  // Thread-safe: stops the loop; Join() waits for the thread.
  void Stop();
  void Join();

  // Thread-safe: installs a new topology in this worker (in-flight requests keep their route).
  void InstallView(ClusterViewPtr view);
  // Thread-safe: installs a new policy; `applied` (may be empty) then runs on this worker's thread.
  void InstallPolicy(ProxyPolicyPtr policy, std::function<void()> applied = nullptr);

  // Replies that come from another thread (PROXY CONFIG SET through the control plane):
  // BeginAsync (worker thread) queues a Request in the client's reply queue, so replies keep
  // their order; FinishAsync (thread-safe) completes it on this worker's thread. The reply is
  // dropped when the client left meanwhile; a request still open when the worker is destroyed is
  // released then.
  Request* BeginAsync(ClientSession* client);
  void FinishAsync(Request* request, std::string reply);

  // --- BackendOwner ---
  EventLoop& loop() override { return loop_; }
  RequestPool& pool() override { return pool_; }
  WorkerStats& stats() override { return stats_; }
  void ScheduleFlush(BackendConn* conn) override;
  void OnBackendReply(BackendConn* conn, Request* request, std::string_view reply) override;
  void FailRequest(Request* request, const std::string& error) override;
  void OnBackendDown(BackendConn* conn) override;

  // --- for sessions and the dispatcher ---
  void ScheduleFlush(ClientSession* client);
  void OnClientClosed(ClientSession* client);
  // Sends `request` to `conn`, or answers "slot not served" when there is none.
  void Forward(Request* request, BackendConn* conn);
  void RequestTopologyRefresh();

  int index() const { return index_; }
  const ProxyOptions& options() const { return context_->options; }
  // The policy in force on this worker (worker thread only).
  const ProxyPolicy& policy() const { return *policy_; }
  const RequestLimits& request_limits() const { return request_limits_; }
  ProxyContext& context() { return *context_; }
  SlotRouter& router() { return router_; }
  // Connections for clients with connection state (transactions, blocking, pub/sub).
  PrivatePool& private_pool() { return private_pool_; }
  CommandDispatcher& dispatcher() { return dispatcher_; }
  const WorkerStats& stats() const { return stats_; }
  // Calls fn(ClientSession&) for every open client of this worker (worker thread only).
  template <typename Fn>
  void ForEachClient(Fn fn) {
    for (auto& [ptr, client] : clients_) {
      if (!client->closed()) fn(*client);
    }
  }

 private:
  class Acceptor;
  void Accept(int listen_fd);
  void BeforeSleep();
  void HandleRedirect(BackendConn* conn, Request* request, std::string_view reply);
  void ReportMoved(uint16_t slot, const NodeAddress& address);
  void Deliver(Request* request, std::string_view reply);

  const int index_;
  ProxyContext* context_;
  ProxyPolicyPtr policy_;
  RequestLimits request_limits_;
  EventLoop loop_;
  WorkerStats stats_;
  RequestPool pool_;
  SlotRouter router_;
  PrivatePool private_pool_;  // before clients_: their states hand connections back on close
  CommandDispatcher dispatcher_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  absl::flat_hash_map<ClientSession*, std::unique_ptr<ClientSession>> clients_;
  std::vector<std::unique_ptr<ClientSession>> closed_clients_;  // deleted after the pass
  std::vector<BackendConn*> backends_to_flush_;
  std::vector<ClientSession*> clients_to_flush_;
  std::vector<BackendConn*> flushing_backends_;
  std::vector<ClientSession*> flushing_clients_;
  int64_t last_refresh_request_ms_ = 0;
  int64_t last_moved_report_ms_ = 0;
  absl::flat_hash_set<Request*> async_requests_;
  std::thread thread_;
};

}  // namespace slotplane::dataplane
