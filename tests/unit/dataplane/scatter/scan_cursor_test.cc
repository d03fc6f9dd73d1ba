#include "dataplane/scatter/scan_cursor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace slotplane::dataplane {
namespace {

TEST(ScanCursorTest, ZeroStartsAtTheFirstMaster) {
  ScanPosition position;
  ASSERT_TRUE(ParseScanCursor("0", &position));
  EXPECT_EQ(position.node, 0u);
  EXPECT_EQ(position.node_cursor, 0u);
}

TEST(ScanCursorTest, RejectsWhatRedisRejects) {
  ScanPosition position;
  for (const char* bad : {"", "abc", "-1", "1x", " 1", "18446744073709551616"}) {
    EXPECT_FALSE(ParseScanCursor(bad, &position)) << bad;
  }
  EXPECT_TRUE(ParseScanCursor("18446744073709551615", &position));
}

TEST(ScanCursorTest, NodeDoneMovesToTheNextNode) {
  uint64_t cursor = 99;
  ASSERT_TRUE(NextScanCursor(0, 0, 3, &cursor));
  EXPECT_EQ(cursor, 1u);
  ASSERT_TRUE(NextScanCursor(1, 0, 3, &cursor));
  EXPECT_EQ(cursor, 2u);
  ASSERT_TRUE(NextScanCursor(2, 0, 3, &cursor));
  EXPECT_EQ(cursor, 0u);  // the last master is done: the scan is over
  ASSERT_TRUE(NextScanCursor(0, 0, 1, &cursor));
  EXPECT_EQ(cursor, 0u);
}

TEST(ScanCursorTest, RoundTrip) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10000; ++i) {
    const uint32_t count = 1 + rng() % kMaxScanNodes;
    const uint32_t node = rng() % count;
    const uint64_t node_cursor = 1 + (rng() >> (kScanNodeBits + rng() % 40));
    uint64_t cursor;
    ASSERT_TRUE(NextScanCursor(node, node_cursor, count, &cursor));
    ScanPosition position;
    ASSERT_TRUE(ParseScanCursor(std::to_string(cursor), &position));
    EXPECT_EQ(position.node, node);
    EXPECT_EQ(position.node_cursor, node_cursor);
  }
}

TEST(ScanCursorTest, NodeCursorTooLargeIsRefused) {
  uint64_t cursor;
  EXPECT_TRUE(NextScanCursor(0, (uint64_t{1} << (64 - kScanNodeBits)) - 1, 2, &cursor));
  EXPECT_FALSE(NextScanCursor(0, uint64_t{1} << (64 - kScanNodeBits), 2, &cursor));
}

// A simulated full walk over masters with known keys visits each exactly once.
TEST(ScanCursorTest, FullWalkVisitsEveryNodeOnce) {
  const uint32_t nodes = 5;
  const uint64_t steps_per_node[nodes] = {3, 1, 0, 7, 2};  // node cursors before it returns 0
  uint64_t cursor = 0;
  std::vector<int> visits(nodes, 0);
  std::vector<uint64_t> progress(nodes, 0);
  int calls = 0;
  do {
    ScanPosition position;
    ASSERT_TRUE(ParseScanCursor(std::to_string(cursor), &position));
    ASSERT_LT(position.node, nodes);
    ++visits[position.node];
    const uint64_t next = progress[position.node] < steps_per_node[position.node]
                              ? ++progress[position.node] * 12345
                              : 0;
    ASSERT_TRUE(NextScanCursor(position.node, next, nodes, &cursor));
    ASSERT_LT(++calls, 100);
  } while (cursor != 0);
  for (uint32_t n = 0; n < nodes; ++n) EXPECT_EQ(visits[n], steps_per_node[n] + 1) << n;
}

}  // namespace
}  // namespace slotplane::dataplane
