#include "dataplane/net/buffer.h"

#include <string>

#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

std::string Contents(const Buffer& b) { return std::string(b.data(), b.size()); }

TEST(BufferTest, AppendConsumeRewinds) {
  Buffer b;
  EXPECT_TRUE(b.empty());
  b.Append("hello ");
  b.Append("world");
  EXPECT_EQ(Contents(b), "hello world");
  b.Consume(6);
  EXPECT_EQ(Contents(b), "world");
  const char* before = b.data();
  b.Consume(5);
  EXPECT_TRUE(b.empty());
  b.Append("x");
  EXPECT_LT(b.data(), before) << "an emptied buffer starts again at the front";
}

TEST(BufferTest, PrepareWriteCommit) {
  Buffer b;
  char* p = b.PrepareWrite(3);
  ASSERT_GE(b.writable(), 3u);
  p[0] = 'a';
  p[1] = 'b';
  b.Commit(2);
  EXPECT_EQ(Contents(b), "ab");
}

TEST(BufferTest, GrowsAndKeepsUnreadBytes) {
  Buffer b;
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    std::string piece = std::to_string(i) + ",";
    b.Append(piece);
    expected += piece;
    if (i % 3 == 0) {
      b.Consume(1);
      expected.erase(0, 1);
    }
  }
  EXPECT_EQ(Contents(b), expected);
}

TEST(BufferTest, SlidesInsteadOfGrowingWhenMostlyConsumed) {
  Buffer b;
  b.Append(std::string(16 * 1024 - 10, 'a'));
  size_t capacity = b.capacity();
  b.Consume(16 * 1024 - 20);  // 10 bytes left, near the end
  b.Append(std::string(100, 'b'));
  EXPECT_EQ(b.capacity(), capacity);
  EXPECT_EQ(Contents(b), std::string(10, 'a') + std::string(100, 'b'));
}

TEST(BufferTest, ShrinkIfIdleReleasesOnlyEmptyLargeBuffers) {
  Buffer b;
  b.Append(std::string(1 << 20, 'x'));
  b.ShrinkIfIdle(64 * 1024);
  EXPECT_GE(b.capacity(), 1u << 20) << "not empty: kept";
  b.Consume(b.size());
  b.ShrinkIfIdle(64 * 1024);
  EXPECT_EQ(b.capacity(), 0u);
  b.Append("again");
  EXPECT_EQ(Contents(b), "again");
}

}  // namespace
}  // namespace slotplane::dataplane
