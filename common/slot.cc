#include "common/slot.h"

#include <array>

namespace slotplane {
namespace {

// The 256-entry lookup table of CRC16/XMODEM (polynomial 0x1021), byte for byte Redis's crc16tab,
// computed at compile time so that it cannot hold a typo.
constexpr std::array<uint16_t, 256> MakeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = MakeCrc16Table();

// Spot checks against Redis's src/crc16.c.
static_assert(kCrc16Table[1] == 0x1021);
static_assert(kCrc16Table[16] == 0x1231);
static_assert(kCrc16Table[255] == 0x1ef0);

constexpr uint16_t kSlotMask = kSlotCount - 1;
static_assert((kSlotCount & kSlotMask) == 0, "the slot count must be a power of two");

}  // namespace

uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;
  for (char c : data) {
    const uint8_t index = static_cast<uint8_t>((crc >> 8) ^ static_cast<uint8_t>(c));
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[index]);
  }
  return crc;
}

// Same rule as Redis's keyHashSlot(): the tag is delimited by the first '{' and the first '}'
// after it; an empty tag ("{}") means the whole key is hashed. Hot path: no allocation.
uint16_t KeyHashSlot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      return Crc16(key.substr(open + 1, close - open - 1)) & kSlotMask;
    }
  }
  return Crc16(key) & kSlotMask;
}

}  // namespace slotplane
