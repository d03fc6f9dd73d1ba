#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "dataplane/core/errors.h"

namespace slotplane::dataplane {

// Every per-worker counter, declared once so PROXY INFO and metrics cannot drift apart.
// X(name, help)
#define SLOTPLANE_WORKER_COUNTERS(X)                                                    \
  X(connections_received, "Client connections accepted")                                \
  X(connections_rejected, "Client connections refused because maxclients was reached")  \
  X(commands_processed, "Commands received from clients")                               \
  X(commands_forwarded, "Commands sent to cluster nodes on behalf of clients")          \
  X(commands_local, "Commands answered by the proxy itself")                            \
  X(moved_redirects, "MOVED replies followed")                                          \
  X(ask_redirects, "ASK replies followed (with ASKING)")                                \
  X(tryagain_retries, "Commands retried after a TRYAGAIN reply")                        \
  X(backend_connects, "Connections opened to cluster nodes")                            \
  X(backend_reconnects, "Connections to cluster nodes reopened after a failure")        \
  X(backend_failures, "Connections to cluster nodes that failed or were lost")          \
  X(topology_refresh_requests, "Topology refreshes asked for after MOVED or a failure") \
  X(private_connects, "Private connections opened (connection state)")                  \
  X(transactions, "Transactions sent to a cluster node (EXEC)")                         \
  X(scripts_reloaded, "EVALSHA scripts loaded again on a master that lacked them")      \
  X(blocking_commands, "Blocking commands run on private connections")                  \
  X(pubsub_messages, "Pub/sub messages delivered to subscribed clients")                \
  X(replies_written_direct, "Large in-order replies written from the node's buffer")    \
  X(client_query_buffer_limit_disconnections,                                           \
    "Clients closed for unparsed input beyond client-query-buffer-limit")               \
  X(client_output_buffer_limit_disconnections,                                          \
    "Clients closed for unsent replies beyond client-output-buffer-limit")              \
  X(client_idle_disconnections, "Idle clients closed after timeout seconds")            \
  X(failover_held_requests, "Requests held while their master failed over")             \
  X(failover_resent_requests, "Held requests sent again to their slot's master")        \
  X(failover_expired_requests, "Held requests failed after failover-hold-timeout")      \
  X(backend_timeouts, "Node connections closed after backend-timeout")                  \
  X(heap_trims, "Times freed heap memory was given back to the system after a burst")

// A counter written by its worker thread only and read by any thread. Relaxed load+store rather
// than fetch_add: one writer needs no read-modify-write, so it costs what a plain integer costs.
class Counter {
 public:
  void Add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

struct WorkerStats {
#define SLOTPLANE_DECLARE_COUNTER(name, help) Counter name;
  SLOTPLANE_WORKER_COUNTERS(SLOTPLANE_DECLARE_COUNTER)
#undef SLOTPLANE_DECLARE_COUNTER
  std::array<Counter, static_cast<size_t>(ErrorKind::kCount)> errors;
  // Gauges, maintained by the worker.
  std::atomic<int64_t> connected_clients{0};
  std::atomic<int64_t> backend_connections{0};

  void CountError(ErrorKind kind) { errors[static_cast<size_t>(kind)].Add(); }
};

}  // namespace slotplane::dataplane
