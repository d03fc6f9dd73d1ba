#include "common/cluster_view.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/strings.h"

namespace slotplane {
namespace {

bool SameNode(const ClusterNode& a, const ClusterNode& b) {
  return a.id == b.id && a.address == b.address && a.role == b.role && a.health == b.health;
}

bool NodeLess(const ClusterNode& a, const ClusterNode& b) {
  return std::tie(a.id, a.address.host, a.address.port, a.role, a.health) <
         std::tie(b.id, b.address.host, b.address.port, b.role, b.health);
}

// Replica order is whatever the server listed; it carries no meaning, so compare as multisets.
bool SameReplicas(std::vector<ClusterNode> a, std::vector<ClusterNode> b) {
  if (a.size() != b.size()) return false;
  std::sort(a.begin(), a.end(), NodeLess);
  std::sort(b.begin(), b.end(), NodeLess);
  return std::equal(a.begin(), a.end(), b.begin(), SameNode);
}

// Shard indices sorted by a key that does not depend on the order the server listed shards in:
// shards owning slots by their lowest slot (unique, ranges do not overlap), then slot-less shards
// by master.
std::vector<size_t> CanonicalShardOrder(const std::vector<Shard>& shards) {
  std::vector<size_t> order(shards.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&shards](size_t i, size_t j) {
    const Shard& a = shards[i];
    const Shard& b = shards[j];
    const int a_first = a.slots.empty() ? kSlotCount : a.slots.front().first;
    const int b_first = b.slots.empty() ? kSlotCount : b.slots.front().first;
    if (a_first != b_first) return a_first < b_first;
    return NodeLess(a.master, b.master);
  });
  return order;
}

// Validates one shard's ranges and records them in `slot_to_shard`. `ranges` must be sorted.
absl::Status AssignSlots(const std::vector<SlotRange>& ranges, int16_t shard_index,
                         std::array<int16_t, kSlotCount>& slot_to_shard) {
  for (const SlotRange& range : ranges) {
    if (range.first > range.last) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", shard_index, ": slot range ",
                                                     range.first, "-", range.last, " is inverted"));
    }
    if (range.last >= kSlotCount) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", shard_index, ": slot range ",
                                                     range.first, "-", range.last, " is outside 0-",
                                                     kSlotCount - 1));
    }
    for (int slot = range.first; slot <= range.last; ++slot) {
      if (slot_to_shard[slot] != ClusterView::kNoShard) {
        return absl::InvalidArgumentError(absl::StrCat("slot ", slot, " is claimed by shard ",
                                                       slot_to_shard[slot], " and shard ",
                                                       shard_index));
      }
      slot_to_shard[slot] = shard_index;
    }
  }
  return absl::OkStatus();
}

// Parses a decimal port in 1..65535; digits only (no sign, no spaces).
bool ParsePort(absl::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  if (!std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) return false;
  uint32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

std::string NodeAddress::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<NodeAddress> ParseNodeAddress(std::string_view input) {
  // Debian's Abseil has its own string_view type, which StrCat and SimpleAtoi need. Errors echo
  // at most the start of a long input.
  const absl::string_view text(input.data(), input.size());
  auto invalid = [input](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid address \"", Echoed(input), "\": ", why));
  };
  NodeAddress address;
  absl::string_view host;
  absl::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find("]:");
    if (close == absl::string_view::npos) {
      return invalid("expected \"[ipv6]:port\"");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return invalid("expected \"host:port\"");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return invalid("an IPv6 host must be bracketed, as in \"[::1]:6379\"");
    }
  }
  if (host.empty()) {
    return invalid("empty host");
  }
  if (!ParsePort(port, &address.port)) {
    return invalid("port must be a number in 1-65535");
  }
  address.host = std::string(host);
  return address;
}

absl::StatusOr<std::shared_ptr<const ClusterView>> ClusterView::Create(std::vector<Shard> shards,
                                                                       uint64_t epoch) {
  // Shard indices are stored as int16_t; kNoShard (-1) is reserved.
  if (shards.size() > static_cast<size_t>(std::numeric_limits<int16_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat("too many shards: ", shards.size()));
  }
  std::shared_ptr<ClusterView> view(new ClusterView());
  view->slot_to_shard_.fill(kNoShard);
  for (size_t i = 0; i < shards.size(); ++i) {
    std::vector<SlotRange>& ranges = shards[i].slots;
    std::sort(ranges.begin(), ranges.end(),
              [](const SlotRange& a, const SlotRange& b) { return a.first < b.first; });
    absl::Status status = AssignSlots(ranges, static_cast<int16_t>(i), view->slot_to_shard_);
    if (!status.ok()) return status;
  }
  view->shards_ = std::move(shards);
  view->epoch_ = epoch;
  return std::shared_ptr<const ClusterView>(std::move(view));
}

int ClusterView::CoveredSlotCount() const {
  return static_cast<int>(std::count_if(slot_to_shard_.begin(), slot_to_shard_.end(),
                                        [](int16_t shard) { return shard != kNoShard; }));
}

// Order-insensitive: two servers of the same cluster may list shards and replicas in different
// orders, which is not a topology change. Shards are paired up by a canonical key, then every
// pair must have the same nodes and every slot must map to paired shards.
bool ClusterView::SameTopology(const ClusterView& other) const {
  if (shards_.size() != other.shards_.size()) return false;
  const std::vector<size_t> mine = CanonicalShardOrder(shards_);
  const std::vector<size_t> theirs = CanonicalShardOrder(other.shards_);
  std::vector<int16_t> to_other(shards_.size(), kNoShard);
  for (size_t i = 0; i < mine.size(); ++i) {
    const Shard& a = shards_[mine[i]];
    const Shard& b = other.shards_[theirs[i]];
    if (!SameNode(a.master, b.master) || !SameReplicas(a.replicas, b.replicas)) return false;
    to_other[mine[i]] = static_cast<int16_t>(theirs[i]);
  }
  for (int slot = 0; slot < kSlotCount; ++slot) {
    const int16_t a = slot_to_shard_[slot];
    const int16_t b = other.slot_to_shard_[slot];
    if ((a == kNoShard ? kNoShard : to_other[a]) != b) return false;
  }
  return true;
}

std::vector<const ClusterNode*> ClusterView::AllNodes() const {
  std::vector<const ClusterNode*> nodes;
  for (const Shard& shard : shards_) nodes.push_back(&shard.master);
  for (const Shard& shard : shards_) {
    for (const ClusterNode& replica : shard.replicas) nodes.push_back(&replica);
  }
  return nodes;
}

}  // namespace slotplane
