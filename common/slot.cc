#include "common/slot.h"

#include <array>
#include <cstring>

namespace slotplane {
namespace {

// CRC16/XMODEM by slicing-by-8: kCrc16Tables[k][b] is the CRC of byte b followed by k zero bytes,
// so eight input bytes are folded into the CRC with eight independent lookups instead of eight
// dependent ones. 8 x 256 x 2 bytes = 4 KB of tables, computed at compile time so that they cannot
// hold a typo; kCrc16Tables[0] is byte for byte Redis's crc16tab.
using Crc16Tables = std::array<std::array<uint16_t, 256>, 8>;

constexpr Crc16Tables MakeCrc16Tables() {
  Crc16Tables tables{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
    tables[0][byte] = crc;
  }
  // One more zero byte after table k-1's CRC: crc = (crc << 8) ^ T0[crc >> 8].
  for (size_t k = 1; k < tables.size(); ++k) {
    for (int byte = 0; byte < 256; ++byte) {
      const uint16_t prev = tables[k - 1][byte];
      tables[k][byte] = static_cast<uint16_t>((prev << 8) ^ tables[0][prev >> 8]);
    }
  }
  return tables;
}

constexpr Crc16Tables kCrc16Tables = MakeCrc16Tables();

// Spot checks against Redis's src/crc16.c.
static_assert(kCrc16Tables[0][1] == 0x1021);
static_assert(kCrc16Tables[0][16] == 0x1231);
static_assert(kCrc16Tables[0][255] == 0x1ef0);

constexpr uint16_t kSlotMask = kSlotCount - 1;
static_assert((kSlotCount & kSlotMask) == 0, "the slot count must be a power of two");

uint16_t Crc16Bytewise(uint16_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Tables[0][((crc >> 8) ^ p[i]) & 0xff]);
  }
  return crc;
}

}  // namespace

// The CRC register's two bytes combine with the next two input bytes (high byte first), so a
// block of eight bytes b0..b7 maps to T7[b0 ^ crc_hi] ^ T6[b1 ^ crc_lo] ^ T5[b2] ^ ... ^ T0[b7].
uint16_t Crc16(std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  uint16_t crc = 0;
  const Crc16Tables& t = kCrc16Tables;
  for (; n >= 8; p += 8, n -= 8) {
    crc = static_cast<uint16_t>(t[7][p[0] ^ (crc >> 8)] ^ t[6][p[1] ^ (crc & 0xff)] ^ t[5][p[2]] ^
                                t[4][p[3]] ^ t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]);
  }
  return Crc16Bytewise(crc, p, n);
}

// Same rule as Redis's keyHashSlot(): the tag is delimited by the first '{' and the first '}'
// after it; an empty tag ("{}") means the whole key is hashed. Hot path: no allocation.
// memchr directly: string_view::find adds its own checks around the same call.
uint16_t KeyHashSlot(std::string_view key) {
  if (key.empty()) return 0;  // CRC16 of nothing; memchr must not see a null pointer
  const char* begin = key.data();
  const char* end = begin + key.size();
  const auto* open = static_cast<const char*>(std::memchr(begin, '{', key.size()));
  if (open != nullptr) {
    const auto* close = static_cast<const char*>(std::memchr(open + 1, '}', end - open - 1));
    if (close != nullptr && close > open + 1) {
      return Crc16(std::string_view(open + 1, static_cast<size_t>(close - open - 1))) & kSlotMask;
    }
  }
  return Crc16(key) & kSlotMask;
}

}  // namespace slotplane
