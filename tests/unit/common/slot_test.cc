#include "common/slot.h"

#include <cstdint>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace slotplane {
namespace {

TEST(Crc16Test, MatchesXmodemCheckValue) {
  // The check value of CRC16/XMODEM, also quoted by the Redis Cluster specification.
  EXPECT_EQ(Crc16("123456789"), 0x31C3);
}

TEST(Crc16Test, EmptyInputIsZero) { EXPECT_EQ(Crc16(""), 0); }

TEST(Crc16Test, HandlesBytesAboveSevenBits) {
  // Bytes >= 0x80 must not be sign-extended when indexing the table.
  const std::string data = {'\xff', '\x80', '\x00', 'a'};
  EXPECT_EQ(Crc16(data), 0x0C7E);  // computed bit by bit, independently of the table
}

// The definition of CRC16/XMODEM, one bit at a time: the reference the table method must equal.
uint16_t ReferenceCrc16(const std::string& data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

TEST(Crc16Test, EqualsTheBitwiseDefinitionOnRandomInputs) {
  std::mt19937_64 random(12);  // fixed seed: a failure reproduces
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t length = 0; length <= 80; ++length) {  // every tail length around the 8-byte blocks
    for (int round = 0; round < 50; ++round) {
      std::string data(length, '\0');
      for (char& c : data) c = static_cast<char>(byte(random));
      ASSERT_EQ(Crc16(data), ReferenceCrc16(data)) << "length " << length;
    }
  }
  for (size_t length : {255u, 256u, 1000u, 4096u, 65537u}) {
    std::string data(length, '\0');
    for (char& c : data) c = static_cast<char>(byte(random));
    ASSERT_EQ(Crc16(data), ReferenceCrc16(data)) << "length " << length;
  }
}

TEST(Crc16Test, EqualsTheBitwiseDefinitionAtEveryOffsetOfABuffer) {
  // Unaligned starts: the table method reads bytes, never wider words.
  std::string buffer;
  for (int i = 0; i < 64; ++i) buffer.push_back(static_cast<char>(i * 37 + 11));
  for (size_t start = 0; start < 16; ++start) {
    const std::string data = buffer.substr(start);
    EXPECT_EQ(Crc16(std::string_view(buffer).substr(start)), ReferenceCrc16(data)) << start;
  }
}

TEST(KeyHashSlotTest, MatchesClusterKeyslot) {
  // Recorded from `CLUSTER KEYSLOT` of redis-server 7.0.15 (tests/integration/keyslot_test.cc
  // checks thousands more against a live node): lengths on both sides of the 8-byte blocks, tags.
  struct Case {
    std::string key;
    uint16_t slot;
  };
  const Case cases[] = {
      {"foo", 12182},
      {"bar", 5061},
      {"", 0},
      {"a", 15495},
      {"key:000000123456", 11249},
      {"key:000000000001", 8924},
      {"key:__rand_int__", 13782},
      {"{user1000}.following", 3443},
      {"user1000", 3443},
      {"123456789", 12739},
      {"12345678", 4117},
      {"1234567890abcdef", 12876},
      {"1234567890abcdefg", 7964},
      {"a{b}c{d}", 3300},
      {"foo{}{bar}", 8363},
      {"foo{{bar}}zap", 4015},
      {"{tag}:with:a:longer:suffix:0042", 8338},
      {"session:7f3a9c2e-41b8-4d0b-9b7e-2f8c6d1e5a90", 11501},
      {"the quick brown fox jumps over the lazy dog", 12325},
      {"counter:visits:2026-12-07", 2361},
      {std::string(63, 'x'), 3853},
      {std::string(64, 'y'), 432},
      {std::string(65, 'z'), 9139},
  };
  for (const Case& c : cases) EXPECT_EQ(KeyHashSlot(c.key), c.slot) << c.key;
}

TEST(KeyHashSlotTest, KnownSlots) {
  EXPECT_EQ(KeyHashSlot("foo"), 12182);
  EXPECT_EQ(KeyHashSlot("bar"), 5061);
  EXPECT_EQ(KeyHashSlot("123456789"), 0x31C3 % kSlotCount);
}

TEST(KeyHashSlotTest, EmptyKeyIsSlotZero) { EXPECT_EQ(KeyHashSlot(""), 0); }

TEST(KeyHashSlotTest, KeysWithTheSameTagShareASlot) {
  EXPECT_EQ(KeyHashSlot("{user1000}.following"), KeyHashSlot("{user1000}.followers"));
  EXPECT_EQ(KeyHashSlot("{user1000}.following"), KeyHashSlot("user1000"));
}

TEST(KeyHashSlotTest, EmptyTagHashesTheWholeKey) {
  EXPECT_EQ(KeyHashSlot("foo{}{bar}"), Crc16("foo{}{bar}") % kSlotCount);
  EXPECT_EQ(KeyHashSlot("{}"), Crc16("{}") % kSlotCount);
}

TEST(KeyHashSlotTest, TagEndsAtTheFirstClosingBrace) {
  EXPECT_EQ(KeyHashSlot("foo{{bar}}zap"), KeyHashSlot("{bar"));
  EXPECT_EQ(KeyHashSlot("foo{{bar}}zap"), Crc16("{bar") % kSlotCount);
}

TEST(KeyHashSlotTest, OnlyTheFirstTagCounts) {
  EXPECT_EQ(KeyHashSlot("foo{bar}{zap}"), KeyHashSlot("bar"));
}

TEST(KeyHashSlotTest, UnbalancedBracesHashTheWholeKey) {
  EXPECT_EQ(KeyHashSlot("foo{bar"), Crc16("foo{bar") % kSlotCount);
  EXPECT_EQ(KeyHashSlot("foo}bar{"), Crc16("foo}bar{") % kSlotCount);
  EXPECT_EQ(KeyHashSlot("{"), Crc16("{") % kSlotCount);
}

TEST(KeyHashSlotTest, TagMayHoldBinaryBytes) {
  const std::string key("a{\0b}c", 6);
  EXPECT_EQ(KeyHashSlot(key), Crc16(std::string("\0b", 2)) % kSlotCount);
}

TEST(KeyHashSlotTest, SlotIsAlwaysInRange) {
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(KeyHashSlot("key:" + std::to_string(i)), kSlotCount);
  }
}

}  // namespace
}  // namespace slotplane
