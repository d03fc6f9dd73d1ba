#include "dataplane/stateful/invalidation_frames.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {
namespace {

TEST(InvalidationFramesTest, ParsesKeysAndFlush) {
  bool flush = true;
  std::vector<std::string_view> keys;
  ASSERT_TRUE(ParseInvalidation(">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n$4\r\nb\r\nc\r\n",
                                &flush, &keys));
  EXPECT_FALSE(flush);
  EXPECT_EQ(keys, (std::vector<std::string_view>{"a", "b\r\nc"}));
  ASSERT_TRUE(ParseInvalidation(">2\r\n$10\r\ninvalidate\r\n_\r\n", &flush, &keys));
  EXPECT_TRUE(flush);
  EXPECT_TRUE(keys.empty());
}

TEST(InvalidationFramesTest, RejectsOtherFrames) {
  bool flush;
  std::vector<std::string_view> keys;
  EXPECT_FALSE(ParseInvalidation("+OK\r\n", &flush, &keys));
  EXPECT_FALSE(ParseInvalidation(">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n", &flush, &keys));
  EXPECT_FALSE(ParseInvalidation(">2\r\n$10\r\ninvalidate\r\n*2\r\n$1\r\na\r\n", &flush, &keys));
  EXPECT_FALSE(ParseInvalidation(">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\na\r\n", &flush, &keys));
}

TEST(InvalidationFramesTest, WritesRedisFrames) {
  std::string out;
  AppendInvalidation(&out, true, {"k"}, false);
  EXPECT_EQ(out, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
  out.clear();
  AppendInvalidation(&out, true, {}, true);
  EXPECT_EQ(out, ">2\r\n$10\r\ninvalidate\r\n_\r\n");
  out.clear();
  AppendInvalidation(&out, false, {"k", "l"}, false);
  EXPECT_EQ(out,
            "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*2\r\n$1\r\nk\r\n$1\r\nl\r\n");
  out.clear();
  AppendInvalidation(&out, false, {}, true);
  EXPECT_EQ(out, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
  out.clear();
  AppendRedirectBroken(&out, 12);
  EXPECT_EQ(out, ">2\r\n$21\r\ntracking-redir-broken\r\n:12\r\n");
}

}  // namespace
}  // namespace slotplane::dataplane
