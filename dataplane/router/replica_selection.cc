#include "dataplane/router/replica_selection.h"

#include "dataplane/backend/backend_conn.h"

namespace slotplane::dataplane {
namespace {

// The next replica that is not down, round robin; nullptr when none is up.
BackendConn* NextReplica(ShardReadTargets& shard) {
  const size_t count = shard.replicas.size();
  for (size_t tries = 0; tries < count; ++tries) {
    BackendConn* conn = shard.replicas[shard.next++ % count];
    if (!conn->down()) return conn;
  }
  return nullptr;
}

// Master and replicas in turn (the master is position 0), skipping those that are down.
BackendConn* NextOfAll(ShardReadTargets& shard) {
  const size_t count = shard.replicas.size() + 1;
  for (size_t tries = 0; tries < count; ++tries) {
    const size_t i = shard.next++ % count;
    BackendConn* conn = i == 0 ? shard.master : shard.replicas[i - 1];
    if (!conn->down()) return conn;
  }
  return shard.master;
}

}  // namespace

BackendConn* PickReadTarget(ShardReadTargets& shard, ReadPolicy policy) {
  switch (policy) {
    case ReadPolicy::kMaster:
      return shard.master;
    case ReadPolicy::kPreferMaster:
      if (!shard.master->down()) return shard.master;
      if (BackendConn* replica = NextReplica(shard)) return replica;
      return shard.master;
    case ReadPolicy::kReplica:
    case ReadPolicy::kPreferReplica:
      if (BackendConn* replica = NextReplica(shard)) return replica;
      return shard.master;
    case ReadPolicy::kAny:
      return NextOfAll(shard);
  }
  return shard.master;
}

}  // namespace slotplane::dataplane
