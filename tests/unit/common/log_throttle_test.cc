#include "common/log_throttle.h"

#include <gtest/gtest.h>

namespace slotplane {
namespace {

TEST(LogThrottleTest, FirstLineIsAllowedThenOnePerInterval) {
  LogThrottle throttle(/*interval_ms=*/60'000);
  uint64_t skipped = 99;
  ASSERT_TRUE(throttle.Allow(&skipped));
  EXPECT_EQ(skipped, 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(throttle.Allow(&skipped));
}

TEST(LogThrottleTest, TheNextAllowedLineCountsTheSkippedOnes) {
  LogThrottle throttle(/*interval_ms=*/0);  // every call is past the interval
  uint64_t skipped = 99;
  ASSERT_TRUE(throttle.Allow(&skipped));
  ASSERT_TRUE(throttle.Allow(&skipped));
  EXPECT_EQ(skipped, 0u);

  LogThrottle slow(/*interval_ms=*/60'000);
  ASSERT_TRUE(slow.Allow(&skipped));
  EXPECT_FALSE(slow.Allow(&skipped));
  EXPECT_FALSE(slow.Allow(&skipped));
  EXPECT_EQ(SkippedSuffix(2), "; 2 more since the last line");
  EXPECT_EQ(SkippedSuffix(0), "");
}

}  // namespace
}  // namespace slotplane
