#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/slot.h"
#include "dataplane/resp/wire_bytes.h"

namespace slotplane::dataplane {

// The pure part of a cross-slot split (CrossSlotSplitter): a command's keys grouped per slot,
// parts numbered in order of first appearance, and each part's sub-command encoded with its keys
// (and, for MSET, their values) in the client's order. No sockets and no worker: the fuzzer
// (tests/fuzz/command_split_fuzz.cc) drives it directly. Reused for every command, so grouping
// allocates nothing once its vectors have grown; one per worker, worker thread only.
class SlotGrouping {
 public:
  SlotGrouping();

  // Groups the keys at `key_positions` of `args`; `key_parts` gets each key's part (in the
  // client's key order).
  void Group(const std::vector<std::string_view>& args, const std::vector<int>& key_positions,
             std::vector<uint32_t>* key_parts);

  size_t parts() const { return part_slots_.size(); }
  uint16_t part_slot(size_t part) const { return part_slots_[part]; }
  size_t part_key_count(size_t part) const { return part_begin_[part + 1] - part_begin_[part]; }

  // Appends part `part`'s RESP command to `out`: args[0], then for each of its keys `step`
  // arguments from the key on (1, or 2 for MSET's key and value). The caller checked that
  // every key has its `step` arguments.
  void AppendPartCommand(size_t part, const std::vector<std::string_view>& args,
                         const std::vector<int>& key_positions, size_t step, WireBytes* out) const;

 private:
  // The part index of each slot (-1: none yet); reset after each Group.
  std::array<int32_t, kSlotCount> slot_part_;
  std::vector<uint16_t> part_slots_;
  std::vector<uint32_t> part_begin_;    // parts() + 1 offsets into keys_by_part_
  std::vector<uint32_t> keys_by_part_;  // key indexes, part after part, client order within
  std::vector<uint32_t> fill_;          // scratch
};

}  // namespace slotplane::dataplane
