// Where subscriptions live: which channels and patterns can see keyspace notifications, with
// Redis's glob rules.

#include "dataplane/stateful/pubsub_placement.h"

#include <gtest/gtest.h>

namespace slotplane::dataplane {
namespace {

TEST(PubSubPlacementTest, KeyspaceChannels) {
  EXPECT_TRUE(IsKeyspaceChannel("__keyspace@0__:foo"));
  EXPECT_TRUE(IsKeyspaceChannel("__keyevent@0__:set"));
  EXPECT_FALSE(IsKeyspaceChannel("__keyspace"));
  EXPECT_FALSE(IsKeyspaceChannel("news"));
  EXPECT_TRUE(LivesOnEveryMaster(SubscriptionType::kChannel, "__keyevent@0__:del"));
  EXPECT_TRUE(LivesOnEveryMaster(SubscriptionType::kChannel, "__keyspace@0__:k"));
  EXPECT_FALSE(LivesOnEveryMaster(SubscriptionType::kChannel, "news"));
  // Shard channels always live on their slot's master.
  EXPECT_FALSE(LivesOnEveryMaster(SubscriptionType::kShard, "__keyevent@0__:del"));
}

TEST(PubSubPlacementTest, PatternsThatCanMatchKeyspaceChannels) {
  for (const char* pattern :
       {"*", "__key*", "__keyspace@0__:*", "__keyevent@*__:set", "__k?yspace@*", "_*", "[_]*",
        "[^a]_key*", "[a-z_]_key*", "__key[d-f]vent@*", "__key[f-d]vent@*", "\\_\\_key*",
        "__keyspace@", "*@0__:*", "?*", "**", "__keyspace@0__:foo", "__keyevent[@"}) {
    EXPECT_TRUE(LivesOnEveryMaster(SubscriptionType::kPattern, pattern)) << pattern;
  }
  for (const char* pattern : {"news*", "a*", "__keyspace", "__key", "[^_]*", "__keyspace#*", "_?x*",
                              "\\*", "__KEYSPACE@*", "[]__key*", "__keyevent\\*"}) {
    EXPECT_FALSE(LivesOnEveryMaster(SubscriptionType::kPattern, pattern)) << pattern;
  }
}

TEST(PubSubPlacementTest, PrefixMatching) {
  EXPECT_TRUE(PatternCanMatchPrefix("ab*", "a"));
  EXPECT_TRUE(PatternCanMatchPrefix("ab", "ab"));
  EXPECT_FALSE(PatternCanMatchPrefix("ab", "abc"));
  EXPECT_TRUE(PatternCanMatchPrefix("a*c", "abbbbbbc"));
  EXPECT_TRUE(PatternCanMatchPrefix("", ""));
  EXPECT_FALSE(PatternCanMatchPrefix("", "a"));
  EXPECT_TRUE(PatternCanMatchPrefix("*a*b*c*d*e*f*g*h*i*j*k*", "kjihgfedcba"));
  EXPECT_FALSE(PatternCanMatchPrefix("[b-d]x", "a"));
  EXPECT_TRUE(PatternCanMatchPrefix("[\\]]x", "]"));
  EXPECT_TRUE(PatternCanMatchPrefix("x\\", "x\\"));
}

}  // namespace
}  // namespace slotplane::dataplane
