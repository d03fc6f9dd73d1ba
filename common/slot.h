#pragma once

#include <cstdint>
#include <string_view>

namespace slotplane {

// Redis Cluster divides the keyspace into this many hash slots.
inline constexpr int kSlotCount = 16384;

// CRC16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses.
uint16_t Crc16(std::string_view data);

// The hash slot of `key` with Redis's hash-tag rule: if the key has a '{' and a '}' after it with
// at least one byte between them, only the bytes between the first '{' and the first '}' after it
// are hashed; otherwise the whole key is. Equal to `CLUSTER KEYSLOT key`.
uint16_t KeyHashSlot(std::string_view key);

}  // namespace slotplane
