#pragma once

#include <utility>

#include "dataplane/core/command_stats.h"
#include "dataplane/core/policy.h"
#include "dataplane/core/proxy_config.h"
#include "dataplane/core/proxy_context.h"
#include "dataplane/core/worker_stats.h"
#include "dataplane/resp/request_parser.h"

namespace slotplane::dataplane {

class BufferPool;
class ClientRegistry;
class ClientTracking;
class CommandSink;
class EventLoop;
class PrivatePool;
class RequestForwarder;
class RequestPool;
class SlotRouter;

// What the code running on one worker thread may use of its worker: the loop, the request pool,
// the counters, the policy in force, the slot router, the request forwarder, the private
// connection pool, the worker's clients, the command dispatcher (as a CommandSink) and the pool
// client buffers borrow from. Sessions,
// handlers and the forwarder take a WorkerContext*; only worker.cc and proxy.cc know the Worker.
//
// The Worker owns every part and binds them here once at construction; the context owns only
// the policy pointer and the request limits derived from it. Worker thread only, except
// index(), stats(), command_stats() and buffers()' gauges, which other threads read (PROXY INFO,
// metrics).
class WorkerContext {
 public:
  struct Parts {
    EventLoop* loop = nullptr;
    RequestPool* pool = nullptr;
    WorkerStats* stats = nullptr;
    SlotRouter* router = nullptr;
    RequestForwarder* forwarder = nullptr;
    PrivatePool* private_pool = nullptr;
    ClientRegistry* clients = nullptr;
    CommandSink* commands = nullptr;
    ClientTracking* tracking = nullptr;
    BufferPool* buffers = nullptr;
  };

  WorkerContext(int index, ProxyContext* proxy, ProxyPolicyPtr policy)
      : index_(index), proxy_(proxy) {
    SetPolicy(std::move(policy));
  }
  WorkerContext(const WorkerContext&) = delete;
  WorkerContext& operator=(const WorkerContext&) = delete;

  void Bind(const Parts& parts) { parts_ = parts; }

  int index() const { return index_; }
  EventLoop& loop() const { return *parts_.loop; }
  RequestPool& pool() const { return *parts_.pool; }
  WorkerStats& stats() const { return *parts_.stats; }
  // Latency by command class, calls and errors by command (the context owns them).
  CommandStats& command_stats() { return command_stats_; }
  const CommandStats& command_stats() const { return command_stats_; }
  SlotRouter& router() const { return *parts_.router; }
  RequestForwarder& forwarder() const { return *parts_.forwarder; }
  // Connections for clients with connection state (transactions, blocking, pub/sub).
  PrivatePool& private_pool() const { return *parts_.private_pool; }
  ClientRegistry& clients() const { return *parts_.clients; }
  // Where a client's parsed commands go (the worker's CommandDispatcher).
  CommandSink& commands() const { return *parts_.commands; }
  // Client-side caching: the worker's tracking table and invalidation links (CLIENT TRACKING).
  ClientTracking& tracking() const { return *parts_.tracking; }
  // The blocks client buffers borrow while they hold bytes (net/buffer_pool.h); its gauges may
  // be read by any thread.
  BufferPool& buffers() const { return *parts_.buffers; }

  // What all workers share.
  ProxyContext& proxy() const { return *proxy_; }
  const ProxyOptions& options() const { return proxy_->options; }

  // The policy in force on this worker, and the parser limits new clients get from it.
  const ProxyPolicy& policy() const { return *policy_; }
  const ProxyPolicyPtr& policy_ptr() const { return policy_; }
  const RequestLimits& request_limits() const { return request_limits_; }
  void SetPolicy(ProxyPolicyPtr policy) {
    policy_ = std::move(policy);
    request_limits_.max_bulk_len = policy_->proto_max_bulk_len;
    request_limits_.max_multibulk_len = policy_->max_multibulk_len;
  }

 private:
  const int index_;
  ProxyContext* const proxy_;
  Parts parts_;
  CommandStats command_stats_;
  ProxyPolicyPtr policy_;
  RequestLimits request_limits_;
};

}  // namespace slotplane::dataplane
