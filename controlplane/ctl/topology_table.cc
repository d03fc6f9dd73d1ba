#include "controlplane/ctl/topology_table.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/ctl/table.h"

namespace slotplane::ctl {
namespace {

constexpr uint32_t kSlots = 16384;  // Redis Cluster's hash slots

std::string Range(uint32_t first, uint32_t last) {
  return first == last ? absl::StrCat(first) : absl::StrCat(first, "-", last);
}

std::string SlotsText(const v1::Shard& shard) {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  for (const v1::SlotRange& r : shard.slots()) ranges.emplace_back(r.first(), r.last());
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::string> text;
  for (const auto& [first, last] : ranges) text.push_back(Range(first, last));
  return text.empty() ? "-" : absl::StrJoin(text, ",");
}

uint32_t FirstSlot(const v1::Shard& shard) {
  uint32_t first = kSlots;  // no slot: after every shard that has one
  for (const v1::SlotRange& r : shard.slots()) first = std::min(first, r.first());
  return first;
}

std::string Address(const v1::Node& node) {
  return node.host().find(':') != std::string::npos
             ? absl::StrCat("[", node.host(), "]:", node.port())
             : absl::StrCat(node.host(), ":", node.port());
}

// The slot ranges no shard owns, ascending.
std::vector<std::pair<uint32_t, uint32_t>> UncoveredRanges(const v1::Topology& topology) {
  std::vector<bool> covered(kSlots, false);
  for (const v1::Shard& shard : topology.shards()) {
    for (const v1::SlotRange& r : shard.slots()) {
      for (uint32_t s = r.first(); s <= r.last() && s < kSlots; ++s) covered[s] = true;
    }
  }
  std::vector<std::pair<uint32_t, uint32_t>> gaps;
  for (uint32_t s = 0; s < kSlots; ++s) {
    if (covered[s]) continue;
    if (!gaps.empty() && gaps.back().second + 1 == s) {
      gaps.back().second = s;
    } else {
      gaps.emplace_back(s, s);
    }
  }
  return gaps;
}

}  // namespace

const char* HealthName(v1::NodeHealth health) {
  switch (health) {
    case v1::NODE_HEALTH_ONLINE:
      return "online";
    case v1::NODE_HEALTH_LOADING:
      return "loading";
    case v1::NODE_HEALTH_FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

std::vector<const v1::Shard*> ShardsBySlot(const v1::Topology& topology) {
  std::vector<const v1::Shard*> shards;
  for (const v1::Shard& shard : topology.shards()) shards.push_back(&shard);
  std::stable_sort(shards.begin(), shards.end(), [](const v1::Shard* a, const v1::Shard* b) {
    return FirstSlot(*a) < FirstSlot(*b);
  });
  return shards;
}

int CoveredSlots(const v1::Topology& topology) {
  int covered = 0;
  for (const v1::Shard& shard : topology.shards()) {
    for (const v1::SlotRange& r : shard.slots()) {
      covered += static_cast<int>(r.last() - r.first() + 1);
    }
  }
  return covered;
}

std::string TopologyTable(const v1::Topology& topology) {
  // Blocks of rows ordered by the slot they start at (gaps and shards do not overlap); shards
  // without slots come last.
  struct Block {
    uint32_t first;
    std::vector<std::vector<std::string>> rows;
  };
  std::vector<Block> blocks;
  for (const v1::Shard* shard : ShardsBySlot(topology)) {
    Block block{FirstSlot(*shard), {}};
    const v1::Node& master = shard->master();
    block.rows.push_back(
        {SlotsText(*shard), "master", Address(master), HealthName(master.health()), master.id()});
    for (const v1::Node& replica : shard->replicas()) {
      block.rows.push_back(
          {"", "replica", Address(replica), HealthName(replica.health()), replica.id()});
    }
    blocks.push_back(std::move(block));
  }
  if (!topology.shards().empty()) {
    for (const auto& [first, last] : UncoveredRanges(topology)) {
      blocks.push_back({first, {{Range(first, last), "-", "-", "uncovered", "-"}}});
    }
  }
  std::stable_sort(blocks.begin(), blocks.end(),
                   [](const Block& a, const Block& b) { return a.first < b.first; });
  Table table({"SLOTS", "ROLE", "NODE", "STATE", "ID"});
  for (Block& block : blocks) {
    for (std::vector<std::string>& row : block.rows) table.AddRow(std::move(row));
  }
  return table.str();
}

}  // namespace slotplane::ctl
