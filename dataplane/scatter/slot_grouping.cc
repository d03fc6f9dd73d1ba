#include "dataplane/scatter/slot_grouping.h"

#include "dataplane/resp/request_encoder.h"

namespace slotplane::dataplane {

SlotGrouping::SlotGrouping() { slot_part_.fill(-1); }

void SlotGrouping::Group(const std::vector<std::string_view>& args,
                         const std::vector<int>& key_positions, std::vector<uint32_t>* key_parts) {
  const size_t keys = key_positions.size();
  key_parts->resize(keys);
  part_slots_.clear();
  for (size_t i = 0; i < keys; ++i) {
    const uint16_t slot = KeyHashSlot(args[key_positions[i]]);
    int32_t& part = slot_part_[slot];
    if (part < 0) {
      part = static_cast<int32_t>(part_slots_.size());
      part_slots_.push_back(slot);
    }
    (*key_parts)[i] = static_cast<uint32_t>(part);
  }
  for (uint16_t slot : part_slots_) slot_part_[slot] = -1;
  // Counting sort of the keys by part, stable: client order within a part.
  const size_t parts = part_slots_.size();
  part_begin_.assign(parts + 1, 0);
  for (uint32_t part : *key_parts) ++part_begin_[part + 1];
  for (size_t p = 0; p < parts; ++p) part_begin_[p + 1] += part_begin_[p];
  fill_.assign(part_begin_.begin(), part_begin_.end() - 1);
  keys_by_part_.resize(keys);
  for (size_t i = 0; i < keys; ++i) keys_by_part_[fill_[(*key_parts)[i]]++] = i;
}

void SlotGrouping::AppendPartCommand(size_t part, const std::vector<std::string_view>& args,
                                     const std::vector<int>& key_positions, size_t step,
                                     WireBytes* out) const {
  AppendCommandHeader(out, 1 + part_key_count(part) * step);
  AppendCommandArg(out, args[0]);
  for (size_t k = part_begin_[part]; k < part_begin_[part + 1]; ++k) {
    const int position = key_positions[keys_by_part_[k]];
    for (size_t j = 0; j < step; ++j) AppendCommandArg(out, args[position + j]);
  }
}

}  // namespace slotplane::dataplane
