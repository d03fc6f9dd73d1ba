#include <gtest/gtest.h>

#include "dataplane/local/command_info_replies.h"

namespace slotplane::dataplane {
namespace {

TEST(GlobMatchTest, LikeRedisStringmatch) {
  EXPECT_TRUE(GlobMatch("*", "anything", false));
  EXPECT_TRUE(GlobMatch("client|*", "client|list", false));
  EXPECT_FALSE(GlobMatch("client|*", "cluster|info", false));
  EXPECT_TRUE(GlobMatch("h?llo", "hello", false));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo", false));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello", false));
  EXPECT_TRUE(GlobMatch("h[a-c]llo", "hbllo", false));
  EXPECT_TRUE(GlobMatch("h\\*llo", "h*llo", false));
  EXPECT_FALSE(GlobMatch("h\\*llo", "hello", false));
  EXPECT_TRUE(GlobMatch("GET", "get", true));
  EXPECT_FALSE(GlobMatch("GET", "get", false));
  EXPECT_TRUE(GlobMatch("*e*", "get", false));
  EXPECT_FALSE(GlobMatch("x*", "", false));
  EXPECT_TRUE(GlobMatch("", "", false));
}

}  // namespace
}  // namespace slotplane::dataplane
