#include "dataplane/core/script_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace slotplane::dataplane {
namespace {

TEST(ScriptCacheTest, NamesScriptsAsRedisDoes) {
  // redis-cli SCRIPT LOAD "return 1"
  EXPECT_EQ(ScriptCache::Sha1Hex("return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(ScriptCacheTest, RemembersFindsAndForgets) {
  ScriptCache& cache = ScriptCache::Get();
  cache.Clear();
  cache.Remember("return 1");
  cache.Remember("return 1");
  EXPECT_EQ(cache.size(), 1u);
  std::string body;
  ASSERT_TRUE(cache.Find("E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", &body));  // any case
  EXPECT_EQ(body, "return 1");
  EXPECT_TRUE(cache.Knows("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"));
  EXPECT_FALSE(cache.Knows(std::string(40, '0')));
  EXPECT_FALSE(cache.Knows("e0e1f9"));
  EXPECT_FALSE(cache.Find("not a sha", &body));
  cache.Clear();
  EXPECT_FALSE(cache.Knows("e0e1f9fabfc9d4800c877a703b823ac0578ff8db"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ScriptCacheTest, BoundedOldestFirst) {
  ScriptCache& cache = ScriptCache::Get();
  cache.Clear();
  for (size_t i = 0; i < ScriptCache::kMaxScripts + 5; ++i) {
    cache.Remember("return " + std::to_string(i));
  }
  EXPECT_EQ(cache.size(), ScriptCache::kMaxScripts);
  EXPECT_FALSE(cache.Knows(ScriptCache::Sha1Hex("return 0")));
  EXPECT_FALSE(cache.Knows(ScriptCache::Sha1Hex("return 4")));
  EXPECT_TRUE(cache.Knows(ScriptCache::Sha1Hex("return 5")));
  // Bytes: a body as large as the whole budget pushes every other script out; a larger one is
  // never kept.
  cache.Remember(std::string(ScriptCache::kMaxBytes, ' '));
  EXPECT_EQ(cache.size(), 1u);
  cache.Remember(std::string(ScriptCache::kMaxBytes + 1, ' '));
  EXPECT_EQ(cache.size(), 1u);
  cache.Clear();
}

}  // namespace
}  // namespace slotplane::dataplane
