#pragma once

#include <cstdint>
#include <string_view>

namespace slotplane::dataplane {

// SCAN through the proxy walks the masters one after the other, in the order of their first slot
// (SlotRouter::masters()). The cursor the client sees carries both the position in that walk and
// the current master's own cursor:
//
//   client cursor = (node cursor << kScanNodeBits) | node index
//
// "0" starts at master 0 with node cursor 0. When master i answers node cursor 0 (it is done),
// the proxy answers cursor i + 1 (master i + 1, from its start), or 0 after the last master. A
// full scan therefore returns every key exactly once when the topology does not change; Redis's
// own guarantee (keys present from start to end are returned at least once) holds per master.
// A master's cursor must fit in 64 - kScanNodeBits bits, which Redis's cursors (bounded by the
// size of its hash tables) always do.
inline constexpr int kScanNodeBits = 10;
inline constexpr uint32_t kMaxScanNodes = 1u << kScanNodeBits;

struct ScanPosition {
  uint32_t node = 0;         // index into the masters' walk order
  uint64_t node_cursor = 0;  // that master's own cursor
};

// Parses a client's cursor (decimal, as Redis accepts it). False when it is not a number; the
// caller also rejects a node index beyond the current masters.
bool ParseScanCursor(std::string_view text, ScanPosition* position);

// The client cursor after `node` answered `node_cursor`, with `node_count` masters in the walk.
// False when the node cursor does not fit the encoding.
bool NextScanCursor(uint32_t node, uint64_t node_cursor, uint32_t node_count, uint64_t* cursor);

}  // namespace slotplane::dataplane
