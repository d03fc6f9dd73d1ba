#include "dataplane/command/key_extractor.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {
namespace {

// Splits on single spaces; "''" stands for an empty argument.
std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    std::string arg(line.substr(start, end - start));
    out.push_back(arg == "''" ? "" : arg);
    start = end + 1;
  }
  return out;
}

// The command argv[0] names, resolved to its subcommand when it is a container.
const CommandInfo* Resolve(const std::vector<std::string_view>& args) {
  const CommandInfo* cmd = CommandTable::Get().Find(args[0]);
  if (cmd != nullptr && cmd->num_subcommands > 0 && args.size() > 1) {
    return CommandTable::Get().FindSubcommand(*cmd, args[1]);
  }
  return cmd;
}

// Key positions for a command line, or nullopt when ExtractKeyPositions returns false.
std::optional<std::vector<int>> Keys(std::string_view line) {
  const std::vector<std::string> storage = Split(line);
  const std::vector<std::string_view> args(storage.begin(), storage.end());
  const CommandInfo* cmd = Resolve(args);
  EXPECT_NE(cmd, nullptr) << line;
  if (cmd == nullptr) return std::nullopt;
  std::vector<int> positions = {99, 98};  // must be cleared
  if (!ExtractKeyPositions(*cmd, args, &positions)) {
    EXPECT_TRUE(positions.empty()) << line;
    return std::nullopt;
  }
  return positions;
}

using V = std::vector<int>;

TEST(KeyExtractorTest, SingleKey) {
  EXPECT_EQ(Keys("GET k"), V({1}));
  EXPECT_EQ(Keys("set k v EX 10"), V({1}));
  EXPECT_EQ(Keys("hset h f v f2 v2"), V({1}));
}

TEST(KeyExtractorTest, RangeWithStep) {
  EXPECT_EQ(Keys("MSET a 1 b 2 c 3"), V({1, 3, 5}));
  EXPECT_EQ(Keys("MGET a b c"), V({1, 2, 3}));
  EXPECT_EQ(Keys("DEL a"), V({1}));
  EXPECT_EQ(Keys("BLPOP a b c 0"), V({1, 2, 3}));  // lastkey -2: the timeout is not a key
}

TEST(KeyExtractorTest, EvalNumkeys) {
  EXPECT_EQ(Keys("EVAL script 0"), V({}));
  EXPECT_EQ(Keys("EVAL script 0 arg1 arg2"), V({}));
  EXPECT_EQ(Keys("EVAL script 2 k1 k2 arg1"), V({3, 4}));
  EXPECT_EQ(Keys("EVALSHA sha 1 k1"), V({3}));
  EXPECT_EQ(Keys("FCALL f 2 k1 k2"), V({3, 4}));
}

TEST(KeyExtractorTest, EvalBadNumkeysIsUnreadable) {
  EXPECT_EQ(Keys("EVAL script abc k1"), std::nullopt);
  EXPECT_EQ(Keys("EVAL script -1 k1"), std::nullopt);
  EXPECT_EQ(Keys("EVAL script 3 k1 k2"), std::nullopt);  // more keys than arguments
  EXPECT_EQ(Keys("EVAL script 01 k1"), std::nullopt);    // Redis rejects leading zeros
  EXPECT_EQ(Keys("EVAL script +1 k1"), std::nullopt);
  EXPECT_EQ(Keys("EVAL script 99999999999 k1"), std::nullopt);
}

TEST(KeyExtractorTest, ZunionstoreDestinationThenSources) {
  EXPECT_EQ(Keys("ZUNIONSTORE dst 2 a b WEIGHTS 1 2"), V({1, 3, 4}));
  EXPECT_EQ(Keys("ZINTERSTORE dst 1 a"), V({1, 3}));
  EXPECT_EQ(Keys("ZUNION 2 a b"), V({2, 3}));
  EXPECT_EQ(Keys("ZUNIONSTORE dst 3 a b"), std::nullopt);
}

TEST(KeyExtractorTest, XreadStreams) {
  EXPECT_EQ(Keys("XREAD STREAMS a 0"), V({2}));
  EXPECT_EQ(Keys("XREAD COUNT 10 BLOCK 0 STREAMS a b 0 0"), V({6, 7}));
  EXPECT_EQ(Keys("xread count 1 streams a b c 0 0 0"), V({4, 5, 6}));
  // A trailing keyword is never examined, as in Redis: no keys; Redis answers the syntax error.
  EXPECT_EQ(Keys("XREAD COUNT 1 STREAMS"), V({}));
  // Fewer than one key/ID pair after STREAMS.
  EXPECT_EQ(Keys("XREAD COUNT 1 STREAMS a"), std::nullopt);
}

TEST(KeyExtractorTest, XreadgroupStreamsAfterGroup) {
  EXPECT_EQ(Keys("XREADGROUP GROUP g c STREAMS s >"), V({5}));
  EXPECT_EQ(Keys("XREADGROUP GROUP g c COUNT 1 BLOCK 10 NOACK STREAMS a b > >"), V({10, 11}));
  // A consumer named "streams" is not the keyword: the search starts after it.
  EXPECT_EQ(Keys("XREADGROUP GROUP g streams STREAMS s >"), V({5}));
}

TEST(KeyExtractorTest, SortWithStore) {
  EXPECT_EQ(Keys("SORT k"), V({1}));
  EXPECT_EQ(Keys("SORT k STORE dst"), V({1, 3}));
  EXPECT_EQ(Keys("SORT k BY w LIMIT 0 10 GET # GET o_* DESC ALPHA STORE dst"), V({1, 14}));
  EXPECT_EQ(Keys("SORT k STORE d1 STORE d2"), V({1, 5}));  // the last STORE wins
  EXPECT_EQ(Keys("SORT k GET store"), V({1}));             // a pattern named "store"
  EXPECT_EQ(Keys("SORT k STORE"), V({1}));
  EXPECT_EQ(Keys("SORT_RO k BY w GET x"), V({1}));
}

TEST(KeyExtractorTest, MigrateKeys) {
  EXPECT_EQ(Keys("MIGRATE host 6379 k 0 5000"), V({3}));
  EXPECT_EQ(Keys("MIGRATE host 6379 '' 0 5000 KEYS a b c"), V({7, 8, 9}));
  EXPECT_EQ(Keys("MIGRATE host 6379 '' 0 5000 COPY REPLACE AUTH pw KEYS a"), V({11}));
  // AUTH2's arguments are skipped, even when one of them is spelled "keys".
  EXPECT_EQ(Keys("MIGRATE host 6379 '' 0 5000 AUTH2 keys pw KEYS a b"), V({10, 11}));
  // KEYS with a non-empty key argument: Redis rejects it.
  EXPECT_EQ(Keys("MIGRATE host 6379 k 0 5000 KEYS a"), std::nullopt);
}

TEST(KeyExtractorTest, GeoradiusStore) {
  EXPECT_EQ(Keys("GEORADIUS k 15 37 200 km"), V({1}));
  EXPECT_EQ(Keys("GEORADIUS k 15 37 200 km WITHDIST STORE dst"), V({1, 8}));
  EXPECT_EQ(Keys("GEORADIUS k 15 37 200 km STOREDIST dst"), V({1, 7}));
  EXPECT_EQ(Keys("GEORADIUSBYMEMBER k m 200 km STORE dst"), V({1, 6}));
  // A trailing keyword is never examined, as in Redis.
  EXPECT_EQ(Keys("GEORADIUS k 15 37 200 km STORE"), V({1}));
}

TEST(KeyExtractorTest, Subcommands) {
  EXPECT_EQ(Keys("OBJECT ENCODING k"), V({2}));
  EXPECT_EQ(Keys("object freq k"), V({2}));
  EXPECT_EQ(Keys("MEMORY USAGE k SAMPLES 5"), V({2}));
  EXPECT_EQ(Keys("XGROUP CREATE s g $ MKSTREAM"), V({2}));
  EXPECT_EQ(Keys("XINFO STREAM s FULL"), V({2}));
  EXPECT_EQ(Keys("CONFIG GET maxmemory"), V({}));
}

TEST(KeyExtractorTest, PopFromManyNumkeys) {
  EXPECT_EQ(Keys("LMPOP 2 a b LEFT COUNT 3"), V({2, 3}));
  EXPECT_EQ(Keys("ZMPOP 1 z MIN"), V({2}));
  EXPECT_EQ(Keys("BLMPOP 0 2 a b RIGHT"), V({3, 4}));
  EXPECT_EQ(Keys("BZMPOP 1.5 3 a b c MAX"), V({3, 4, 5}));
  EXPECT_EQ(Keys("SINTERCARD 2 a b LIMIT 1"), V({2, 3}));
  EXPECT_EQ(Keys("LMPOP x a LEFT"), std::nullopt);
  EXPECT_EQ(Keys("BLMPOP 0 5 a b RIGHT"), std::nullopt);
}

TEST(KeyExtractorTest, Bitop) {
  EXPECT_EQ(Keys("BITOP AND dst a b c"), V({2, 3, 4, 5}));
  EXPECT_EQ(Keys("BITOP NOT dst a"), V({2, 3}));
}

TEST(KeyExtractorTest, ShardChannelsCountAsKeys) {
  // Redis marks them NOT_KEY, but routes them by slot in a cluster: so does the proxy.
  EXPECT_EQ(Keys("SPUBLISH ch msg"), V({1}));
  EXPECT_EQ(Keys("SSUBSCRIBE a b"), V({1, 2}));
}

TEST(KeyExtractorTest, KeylessCommands) {
  EXPECT_EQ(Keys("PING"), V({}));
  EXPECT_EQ(Keys("KEYS *"), V({}));
  EXPECT_EQ(Keys("PUBLISH ch msg"), V({}));
}

TEST(KeyExtractorTest, MovableKeysWithTooFewArguments) {
  EXPECT_EQ(Keys("EVAL script"), std::nullopt);
  EXPECT_EQ(Keys("ZUNIONSTORE dst"), std::nullopt);
  EXPECT_EQ(Keys("XREADGROUP GROUP g c STREAMS s"), std::nullopt);
  EXPECT_EQ(Keys("BLMPOP 0"), std::nullopt);
  EXPECT_EQ(Keys("SORT"), std::nullopt);
  EXPECT_EQ(Keys("MIGRATE host"), std::nullopt);
}

TEST(KeyExtractorTest, ReusesCapacity) {
  const CommandInfo* mget = CommandTable::Get().Find("mget");
  ASSERT_NE(mget, nullptr);
  const std::vector<std::string_view> args = {"mget", "a", "b", "c", "d"};
  std::vector<int> positions;
  positions.reserve(16);
  const int* data = positions.data();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ExtractKeyPositions(*mget, args, &positions));
    EXPECT_EQ(positions, V({1, 2, 3, 4}));
    EXPECT_EQ(positions.data(), data);
  }
}

// Every command, every subcommand, any short argv: never out of bounds, never stuck. Run under
// SLOTPLANE_SANITIZE for the bounds part.
TEST(KeyExtractorTest, AnyArgvIsSafe) {
  const std::vector<std::string_view> fillers = {"1", "x", "STREAMS", "STORE", "KEYS", "-1", ""};
  std::vector<int> positions;
  std::vector<const CommandInfo*> commands;
  for (const CommandInfo* cmd : CommandTable::Get().All()) {
    commands.push_back(cmd);
    for (int i = 0; i < cmd->num_subcommands; ++i) commands.push_back(&cmd->subcommands[i]);
  }
  for (const CommandInfo* cmd : commands) {
    for (std::string_view filler : fillers) {
      std::vector<std::string_view> args;
      for (size_t argc = 0; argc <= 9; ++argc) {
        if (ExtractKeyPositions(*cmd, args, &positions)) {
          for (int pos : positions) {
            EXPECT_GE(pos, 1) << cmd->name;
            EXPECT_LT(pos, static_cast<int>(args.size())) << cmd->name;
          }
        } else {
          EXPECT_TRUE(positions.empty()) << cmd->name;
        }
        args.push_back(args.empty() ? std::string_view(cmd->name) : filler);
      }
    }
  }
}

}  // namespace
}  // namespace slotplane::dataplane
