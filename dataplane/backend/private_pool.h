#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/cluster_view.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/backend/private_conn.h"
#include "dataplane/net/flush_list.h"

namespace slotplane::dataplane {

class EventLoop;
struct WorkerStats;

// A worker's private connections: the ones clients use for connection state (transactions,
// blocking commands, subscriptions, multiplexing off). A client takes one per node it needs and
// gives it back when its state is clean again (EXEC or DISCARD done, the blocking reply arrived,
// no subscription left); clean connections wait in an idle list, at most `max_idle_per_node`
// per node (redis-cluster-proxy's connections-pool-size), so that the next client skips the
// connect and AUTH. Dirty ones are closed. Worker thread only.
//
// Connections are deleted only by CollectGarbage(), between loop passes, so a connection handed
// back from inside its own callback stays valid until that callback returns.
class PrivatePool {
 public:
  PrivatePool(EventLoop* loop, WorkerStats* stats, BackendOptions options, int max_idle_per_node);
  ~PrivatePool();
  PrivatePool(const PrivatePool&) = delete;
  PrivatePool& operator=(const PrivatePool&) = delete;

  // A connection to `address` for `user`: an idle one when there is one, else a new one. `resp3`:
  // one that spoke HELLO 3 (a RESP3 client's); idle connections are kept per protocol.
  PrivateConn* Acquire(const NodeAddress& address, PrivateConnUser* user, bool resp3 = false);
  // Gives back a connection whose state is clean: kept idle when quiet and there is room.
  void Release(PrivateConn* conn) { Release(conn, max_idle_per_node_); }
  // Likewise with room for up to `max_idle` idle connections to its node (script calls keep more
  // than connections-pool-size, so that many clients running scripts do not reconnect each time).
  void Release(PrivateConn* conn, int max_idle);
  // Gives back a connection that still owes `frames` replies (e.g. the rest of an EXEC, or the
  // answer to an UNWATCH just written): they are swallowed, then the connection is released.
  void ReleaseAfter(PrivateConn* conn, size_t frames);
  // Closes the connection (its state is unknown or useless: a client left mid-block, a failure).
  void Discard(PrivateConn* conn);

  // --- for PrivateConn ---
  void ScheduleFlush(PrivateConn* conn);
  // A frame arrived while nobody holds the connection.
  void OnOrphanFrame(PrivateConn* conn);
  EventLoop& loop() { return *loop_; }
  WorkerStats& stats() { return *stats_; }

  // --- for the worker ---
  // Writes what the pass queued on private connections; true when there was anything.
  bool FlushScheduled() { return to_flush_.FlushAll(); }
  bool flush_pending() const { return !to_flush_.empty(); }
  // Deletes discarded connections. Between loop passes only.
  void CollectGarbage();
  void set_options(BackendOptions options) { options_ = std::move(options); }
  // connections-pool-size: idle connections kept per node (a policy change).
  void set_max_idle_per_node(int n) { max_idle_per_node_ = n; }

 private:
  void RemoveFromIdle(PrivateConn* conn);

  EventLoop* loop_;
  WorkerStats* stats_;
  BackendOptions options_;
  int max_idle_per_node_;
  absl::flat_hash_map<PrivateConn*, std::unique_ptr<PrivateConn>> conns_;
  // By address text, "#3" appended for RESP3 connections (IdleKey).
  absl::flat_hash_map<std::string, std::vector<PrivateConn*>> idle_;
  std::vector<std::unique_ptr<PrivateConn>> graveyard_;
  FlushList<PrivateConn> to_flush_;
};

}  // namespace slotplane::dataplane
