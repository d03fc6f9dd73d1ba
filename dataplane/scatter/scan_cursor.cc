#include "dataplane/scatter/scan_cursor.h"

#include <charconv>

namespace slotplane::dataplane {

bool ParseScanCursor(std::string_view text, ScanPosition* position) {
  uint64_t cursor = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, cursor);
  if (text.empty() || error != std::errc() || ptr != end) return false;
  position->node = static_cast<uint32_t>(cursor & (kMaxScanNodes - 1));
  position->node_cursor = cursor >> kScanNodeBits;
  return true;
}

bool NextScanCursor(uint32_t node, uint64_t node_cursor, uint32_t node_count, uint64_t* cursor) {
  if (node_cursor == 0) {
    *cursor = node + 1 < node_count ? node + 1 : 0;
    return true;
  }
  if (node_cursor >> (64 - kScanNodeBits) != 0) return false;
  *cursor = (node_cursor << kScanNodeBits) | node;
  return true;
}

}  // namespace slotplane::dataplane
