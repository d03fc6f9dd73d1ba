#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/log_throttle.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/control/config_applier.h"
#include "dataplane/core/proxy_context.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/core/worker_stats.h"
#include "dataplane/net/buffer_pool.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"

namespace slotplane::dataplane {

class ClientRegistry;
class ClientTracking;
class CommandDispatcher;

// A shared-nothing worker: one thread, one epoll loop, its own TCP listeners (SO_REUSEPORT; only
// the proxy's one unix-socket listener is watched by every worker's loop), and the lifetimes of
// everything that runs on that thread — client sessions, backend connections (one
// per cluster node), the request forwarder, the dispatcher and the counters. Code running on the
// thread sees them through the WorkerContext, never through the Worker. Other threads talk to it
// only through its loop's task queue. Nothing on its request path takes a lock.
class Worker : public ConfigTarget {
 public:
  Worker(int index, ProxyContext* proxy);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Opens this worker's listeners on every bind address: `port` (unless PlainListener() says
  // not) and `tls-port`; and watches the proxy's shared `unixsocket` listener, if any.
  absl::Status Listen();
  void Start();
  // Thread-safe: starts draining. The worker closes its listeners (new connections are refused),
  // keeps serving its clients, and closes each one once it has no reply pending or unsent
  // (in-flight requests finish; idle, subscribed and MULTI-queued clients go at once). drained()
  // turns true when no client is left; Stop() ends whatever remains.
  void Drain();
  bool drained() const { return drained_.load(); }
  // Thread-safe: stops the loop; Join() waits for the thread.
  void Stop();
  void Join();

  // --- ConfigTarget (thread-safe) ---
  void InstallView(ClusterViewPtr view) override;
  void InstallPolicy(ProxyPolicyPtr policy, std::function<void()> applied) override;
  // Thread-safe: new TLS clients and new cluster-node connections use these contexts (reload).
  void InstallTls(SslContextPtr server, SslContextPtr client);

  WorkerContext& context() { return context_; }

 private:
  class Acceptor;
  enum class ListenerKind { kTcp, kTls, kUnix };
  void Accept(int listen_fd, ListenerKind kind);
  absl::Status AddListener(const std::string& host, uint16_t port, bool tls);
  void AddAcceptor(int fd, ListenerKind kind);
  // Logs an accept() failure, at most once per second per worker; the line counts the ones
  // left out since the last.
  void LogAcceptError(int error);
  // Out of descriptors: stops watching every listener of this worker for a moment (the pending
  // connections wait in the kernel's backlog), so the loop does not spin on accept().
  void PauseAccepting();
  void ApplyPolicy(ProxyPolicyPtr policy);
  void BeforeSleep();
  // One drain pass: closes the clients with nothing pending; again after kDrainCheckMs until none
  // is left.
  void CloseDrainedClients();

  // Declaration order is destruction order in reverse: clients go first (closing them detaches
  // their requests), then the dispatcher, the private pool (client states hand connections back
  // on close, so it outlives them), the router with the backend connections (which release the
  // requests still queued), and the request pool last.
  WorkerContext context_;
  EventLoop loop_;
  WorkerStats stats_;
  BufferPool buffers_;  // client buffers: outlives the clients
  RequestPool pool_;
  RequestForwarder forwarder_;
  SlotRouter router_;
  PrivatePool private_pool_;
  std::unique_ptr<ClientTracking> tracking_;  // outlives clients_ (their close reaches it)
  std::unique_ptr<CommandDispatcher> dispatcher_;
  std::unique_ptr<ClientRegistry> clients_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  bool accepting_paused_ = false;
  LogThrottle accept_log_;    // at most one accept error line per interval
  SslContextPtr tls_server_;  // the TLS listener's context; null without tls-port
  SslContextPtr tls_client_;  // tls-cluster's context; null: plain TCP to the nodes
  std::atomic<bool> drained_{false};
  std::thread thread_;
};

}  // namespace slotplane::dataplane
