#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/slot.h"

namespace slotplane {

struct NodeAddress {
  std::string host;
  uint16_t port = 0;

  std::string ToString() const;  // "host:port" ("[v6]:port" for IPv6 literals)
  bool operator==(const NodeAddress& other) const {
    return port == other.port && host == other.host;
  }
  bool operator!=(const NodeAddress& other) const { return !(*this == other); }
};

// Parses "host:port" or "[v6]:port"; port must be 1..65535.
absl::StatusOr<NodeAddress> ParseNodeAddress(std::string_view text);

enum class NodeRole { kMaster, kReplica };
enum class NodeHealth { kOnline, kLoading, kFailed };

struct ClusterNode {
  std::string
      id;  // 40-hex node id; may be empty when the source (CLUSTER SLOTS on old servers) lacks it
  NodeAddress address;
  NodeRole role = NodeRole::kMaster;
  NodeHealth health = NodeHealth::kOnline;
};

struct SlotRange {
  uint16_t first = 0;  // inclusive
  uint16_t last = 0;   // inclusive
};

struct Shard {
  std::vector<SlotRange> slots;  // sorted, non-overlapping
  ClusterNode master;
  std::vector<ClusterNode> replicas;
};

// An immutable snapshot of the cluster's slot map. Built once, then shared between threads as
// std::shared_ptr<const ClusterView>; never edited in place (a change is a new view).
class ClusterView {
 public:
  static constexpr int16_t kNoShard = -1;

  // Validates that ranges lie in 0..16383 and no slot is claimed twice; shards with no slots are
  // kept (a master with no slots yet). `epoch` is the cluster's current epoch as reported by
  // CLUSTER INFO (0 if unknown).
  static absl::StatusOr<std::shared_ptr<const ClusterView>> Create(std::vector<Shard> shards,
                                                                   uint64_t epoch);

  const std::vector<Shard>& shards() const { return shards_; }
  uint64_t epoch() const { return epoch_; }

  // Index into shards() of the shard owning `slot`, or kNoShard when the slot is uncovered.
  int16_t ShardIndexForSlot(uint16_t slot) const { return slot_to_shard_[slot]; }
  const Shard* ShardForSlot(uint16_t slot) const {
    int16_t i = slot_to_shard_[slot];
    return i == kNoShard ? nullptr : &shards_[i];
  }
  int CoveredSlotCount() const;

  // True when both views have the same slot map, the same node ids, addresses, roles and health.
  // The epoch is not compared.
  bool SameTopology(const ClusterView& other) const;

  // Every node of the view, masters first then replicas, in shard order.
  std::vector<const ClusterNode*> AllNodes() const;

 private:
  ClusterView() = default;

  std::vector<Shard> shards_;
  uint64_t epoch_ = 0;
  std::array<int16_t, kSlotCount> slot_to_shard_{};
};

using ClusterViewPtr = std::shared_ptr<const ClusterView>;

}  // namespace slotplane
