#include "dataplane/router/slot_router.h"

#include "common/logging.h"

namespace slotplane::dataplane {

SlotRouter::SlotRouter(BackendOwner* owner, const BackendOptions& options)
    : owner_(owner), options_(options) {}

SlotRouter::~SlotRouter() = default;

BackendConn* SlotRouter::ForAddress(const NodeAddress& address) {
  std::string key = address.ToString();
  auto it = backends_.find(key);
  if (it != backends_.end()) return it->second.get();
  auto conn = std::make_unique<BackendConn>(owner_, address, options_);
  BackendConn* raw = conn.get();
  backends_.emplace(std::move(key), std::move(conn));
  return raw;
}

void SlotRouter::SetView(ClusterViewPtr view) {
  view_ = std::move(view);
  slot_owner_.fill(nullptr);
  masters_.clear();
  for (const Shard& shard : view_->shards()) {
    BackendConn* conn = ForAddress(shard.master.address);
    if (!shard.slots.empty()) masters_.push_back(conn);
    for (const SlotRange& range : shard.slots) {
      for (int slot = range.first; slot <= range.last; ++slot) slot_owner_[slot] = conn;
    }
  }
  MarkReferences();
}

BackendConn* SlotRouter::AnyMaster() {
  if (masters_.empty()) return nullptr;
  // Prefer a master that is not in reconnect backoff; if all are, any will report why.
  for (size_t tries = 0; tries < masters_.size(); ++tries) {
    next_master_ = (next_master_ + 1) % masters_.size();
    if (!masters_[next_master_]->down()) break;
  }
  return masters_[next_master_];
}

BackendConn* SlotRouter::OnMoved(uint16_t slot, const NodeAddress& address) {
  BackendConn* conn = ForAddress(address);
  if (slot_owner_[slot] != conn) {
    slot_owner_[slot] = conn;
    conn->set_referenced(true);
    garbage_ = true;  // the previous owner may have lost its last slot
  }
  return conn;
}

void SlotRouter::MarkReferences() {
  for (auto& [address, conn] : backends_) conn->set_referenced(false);
  for (BackendConn* conn : slot_owner_) {
    if (conn != nullptr) conn->set_referenced(true);
  }
  for (BackendConn* conn : masters_) conn->set_referenced(true);
  garbage_ = true;
}

void SlotRouter::CollectGarbage() {
  if (!garbage_) return;
  garbage_ = false;
  for (auto it = backends_.begin(); it != backends_.end();) {
    BackendConn& conn = *it->second;
    if (!conn.referenced() && conn.idle() && !conn.flush_scheduled) {
      SP_LOG(kDebug) << "closing connection to " << it->first << ": no longer in the topology";
      backends_.erase(it++);
    } else {
      if (!conn.referenced()) garbage_ = true;  // retry once it drains
      ++it;
    }
  }
}

}  // namespace slotplane::dataplane
