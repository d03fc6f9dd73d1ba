#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/core/policy.h"

namespace slotplane::dataplane {

class BackendConn;

// The connections that one shard's read-only commands may use under a read policy, and where
// its round robin stands. Built by SlotRouter from each ClusterView; worker thread only.
struct ShardReadTargets {
  BackendConn* master = nullptr;
  std::vector<BackendConn*> replicas;  // the view's online replicas; READONLY connections
  uint32_t next = 0;                   // round-robin position
};

// The connection a read-only command goes to:
//   master          the master;
//   prefer-master   the master, or a replica while the master's connection is down;
//   replica,
//   prefer-replica  the replicas in turn, or the master when none is up (slotplane never fails
//                   a read for want of a replica, so the two behave alike);
//   any             the master and the replicas in turn.
// A connection in reconnect backoff ("down") is skipped; the master is the last resort. Never
// nullptr when `shard.master` is set.
BackendConn* PickReadTarget(ShardReadTargets& shard, ReadPolicy policy);

}  // namespace slotplane::dataplane
