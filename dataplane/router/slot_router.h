#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/cluster_view.h"
#include "dataplane/backend/backend_conn.h"

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
  // A master for keyless commands, round robin; nullptr without a view.
  BackendConn* AnyMaster();
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

  BackendOwner* owner_;
  BackendOptions options_;
  ClusterViewPtr view_;
  absl::flat_hash_map<std::string, std::unique_ptr<BackendConn>> backends_;
  std::array<BackendConn*, kSlotCount> slot_owner_{};
  std::vector<BackendConn*> masters_;
  size_t next_master_ = 0;
  bool garbage_ = false;
};

}  // namespace slotplane::dataplane
