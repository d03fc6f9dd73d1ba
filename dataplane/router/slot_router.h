#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/cluster_view.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/core/policy.h"
#include "dataplane/router/replica_selection.h"

namespace slotplane::dataplane {

// A worker's map from hash slot to the backend connection of the slot's master. Starts from the
// shared immutable ClusterView and takes MOVED corrections on top of it until the next view
// arrives. Owns the worker's backend connections (one per node). Worker thread only.
class SlotRouter {
 public:
  SlotRouter(BackendOwner* owner, const BackendOptions& options);
  ~SlotRouter();

  // Installs a new view: the slot table is rebuilt from it (dropping MOVED corrections, which the
  // view supersedes). Connections to nodes that left are closed once idle.
  void SetView(ClusterViewPtr view);
  const ClusterViewPtr& view() const { return view_; }
  // Credentials and timeouts for connections opened from now on (a policy change).
  void set_backend_options(const BackendOptions& options) { options_ = options; }

  // The slot's master connection, or nullptr when no view covers the slot.
  BackendConn* ForSlot(uint16_t slot) const { return slot_owner_[slot]; }
  // Where a read-only command on `slot` goes under `policy` (see PickReadTarget); the master
  // when the policy is kMaster, the shard has no replica or a MOVED corrected the slot.
  BackendConn* ForRead(uint16_t slot, ReadPolicy policy) {
    const int16_t shard = slot_shard_[slot];
    if (shard < 0 || policy == ReadPolicy::kMaster) return slot_owner_[slot];
    return PickReadTarget(read_targets_[shard], policy);
  }
  // A master for keyless commands, round robin; nullptr without a view.
  BackendConn* AnyMaster();
  // The masters that own slots, ordered by their first slot: the fixed order of fan-outs and of
  // SCAN's walk. Empty without a view.
  const std::vector<BackendConn*>& masters() const { return masters_; }
  // The view's masters then its replicas, without nodes the view reports failed (CONFIG SET and
  // other commands for every node).
  std::vector<BackendConn*> AllNodes();
  // Records a MOVED: the slot now belongs to `address`. Returns the connection to use.
  BackendConn* OnMoved(uint16_t slot, const NodeAddress& address);
  // The connection to `address`, created on first use.
  BackendConn* ForAddress(const NodeAddress& address);

  // Deletes connections no slot points at once they are idle. Call only between event passes,
  // never from inside a connection's callback.
  void CollectGarbage();

  template <typename Fn>
  void ForEachBackend(Fn fn) const {
    for (const auto& [address, conn] : backends_) fn(*conn);
  }

 private:
  void MarkReferences();
  // The connection to a replica: READONLY, since it serves reads.
  BackendConn* ForReplica(const NodeAddress& address);

  BackendOwner* owner_;
  BackendOptions options_;
  ClusterViewPtr view_;
  absl::flat_hash_map<std::string, std::unique_ptr<BackendConn>> backends_;
  std::array<BackendConn*, kSlotCount> slot_owner_{};
  // Index into read_targets_ of the slot's shard; -1 when reads must go to slot_owner_.
  std::array<int16_t, kSlotCount> slot_shard_{};
  std::vector<ShardReadTargets> read_targets_;
  std::vector<BackendConn*> masters_;
  size_t next_master_ = 0;
  bool garbage_ = false;
};

}  // namespace slotplane::dataplane
