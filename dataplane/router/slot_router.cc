#include "dataplane/router/slot_router.h"

#include <algorithm>

#include "common/logging.h"

namespace slotplane::dataplane {

SlotRouter::SlotRouter(BackendOwner* owner, const BackendOptions& options)
    : owner_(owner), options_(options) {
  slot_shard_.fill(-1);
}

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

BackendConn* SlotRouter::ForReplica(const NodeAddress& address) {
  auto it = backends_.find(address.ToString());
  if (it != backends_.end()) {
    it->second->EnsureReadonly();
    return it->second.get();
  }
  BackendOptions options = options_;
  options.readonly = true;
  auto conn = std::make_unique<BackendConn>(owner_, address, options);
  BackendConn* raw = conn.get();
  backends_.emplace(address.ToString(), std::move(conn));
  return raw;
}

void SlotRouter::SetView(ClusterViewPtr view) {
  view_ = std::move(view);
  slot_owner_.fill(nullptr);
  slot_shard_.fill(-1);
  masters_.clear();
  read_targets_.clear();
  // Shards in the order of their first slot: fan-outs and SCAN walk the masters in this order.
  std::vector<const Shard*> shards;
  for (const Shard& shard : view_->shards()) {
    if (!shard.slots.empty()) shards.push_back(&shard);
  }
  std::sort(shards.begin(), shards.end(), [](const Shard* a, const Shard* b) {
    return a->slots.front().first < b->slots.front().first;
  });
  for (const Shard* shard : shards) {
    BackendConn* conn = ForAddress(shard->master.address);
    masters_.push_back(conn);
    ShardReadTargets targets;
    targets.master = conn;
    for (const ClusterNode& replica : shard->replicas) {
      if (replica.health == NodeHealth::kOnline) {
        targets.replicas.push_back(ForReplica(replica.address));
      }
    }
    const auto shard_index = static_cast<int16_t>(read_targets_.size());
    read_targets_.push_back(std::move(targets));
    for (const SlotRange& range : shard->slots) {
      for (int slot = range.first; slot <= range.last; ++slot) {
        slot_owner_[slot] = conn;
        slot_shard_[slot] = shard_index;
      }
    }
  }
  MarkReferences();
}

std::vector<BackendConn*> SlotRouter::AllNodes() {
  std::vector<BackendConn*> nodes = masters_;
  if (view_ == nullptr) return nodes;
  for (const ShardReadTargets& shard : read_targets_) {
    nodes.insert(nodes.end(), shard.replicas.begin(), shard.replicas.end());
  }
  return nodes;
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
    slot_shard_[slot] = -1;  // the view's replicas no longer serve it: reads go to `conn`
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
  for (const ShardReadTargets& shard : read_targets_) {
    for (BackendConn* conn : shard.replicas) conn->set_referenced(true);
  }
  garbage_ = true;
}

void SlotRouter::CollectGarbage() {
  if (!garbage_) return;
  garbage_ = false;
  for (auto it = backends_.begin(); it != backends_.end();) {
    BackendConn& conn = *it->second;
    const BackendConn* resp3 = conn.resp3_sibling();
    if (!conn.referenced() && conn.idle() && !conn.flush_scheduled &&
        (resp3 == nullptr || !resp3->flush_scheduled)) {
      SP_LOG(kDebug) << "closing connection to " << it->first << ": no longer in the topology";
      backends_.erase(it++);
    } else {
      if (!conn.referenced()) garbage_ = true;  // retry once it drains
      ++it;
    }
  }
}

}  // namespace slotplane::dataplane
