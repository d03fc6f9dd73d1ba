#include "common/slot.h"

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
