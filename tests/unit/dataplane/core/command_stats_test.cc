#include "dataplane/core/command_stats.h"

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/command/command_class.h"
#include "dataplane/command/command_table.h"
#include "dataplane/core/latency_histogram.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

const CommandInfo& Command(const std::string& name) {
  const CommandInfo* cmd = CommandTable::Get().Find(name);
  EXPECT_NE(cmd, nullptr) << name;
  return *cmd;
}

const CommandInfo& Subcommand(const std::string& parent, const std::string& name) {
  const CommandInfo* sub = CommandTable::Get().FindSubcommand(Command(parent), name);
  EXPECT_NE(sub, nullptr) << parent << " " << name;
  return *sub;
}

TEST(CommandClassTest, ClassesFollowTheTable) {
  EXPECT_EQ(ClassOf(Command("get")), CommandClass::kRead);
  EXPECT_EQ(ClassOf(Command("hgetall")), CommandClass::kRead);
  EXPECT_EQ(ClassOf(Command("set")), CommandClass::kWrite);
  EXPECT_EQ(ClassOf(Command("incr")), CommandClass::kWrite);
  EXPECT_EQ(ClassOf(Command("mget")), CommandClass::kMultiKey);
  EXPECT_EQ(ClassOf(Command("mset")), CommandClass::kMultiKey);
  EXPECT_EQ(ClassOf(Command("del")), CommandClass::kMultiKey);
  EXPECT_EQ(ClassOf(Command("eval")), CommandClass::kMultiKey);
  EXPECT_EQ(ClassOf(Command("dbsize")), CommandClass::kFanOut);
  EXPECT_EQ(ClassOf(Command("keys")), CommandClass::kFanOut);
  EXPECT_EQ(ClassOf(Subcommand("config", "set")), CommandClass::kFanOut);
  EXPECT_EQ(ClassOf(Command("blpop")), CommandClass::kBlocking);
  EXPECT_EQ(ClassOf(Command("wait")), CommandClass::kBlocking);
  EXPECT_EQ(ClassOf(Command("subscribe")), CommandClass::kPubSub);
  EXPECT_EQ(ClassOf(Command("publish")), CommandClass::kPubSub);
  EXPECT_EQ(ClassOf(Command("multi")), CommandClass::kTransaction);
  EXPECT_EQ(ClassOf(Command("exec")), CommandClass::kTransaction);
  EXPECT_EQ(ClassOf(Command("watch")), CommandClass::kTransaction);
  EXPECT_EQ(ClassOf(Command("ping")), CommandClass::kLocal);
  EXPECT_EQ(ClassOf(Subcommand("cluster", "slots")), CommandClass::kLocal);
  EXPECT_EQ(ClassOf(Command("monitor")), CommandClass::kOther);
}

TEST(CommandClassTest, NamesAreTheLabelValues) {
  std::string names;
  for (size_t c = 0; c < kCommandClassCount; ++c) {
    names += CommandClassName(static_cast<CommandClass>(c));
    names += " ";
  }
  EXPECT_EQ(names, "read write multi_key fan_out blocking pubsub transaction local other ");
}

TEST(CommandTableTest, IndexIsDenseAndRoundTrips) {
  const CommandTable& table = CommandTable::Get();
  EXPECT_EQ(table.size(), table.All().size());
  for (const CommandInfo* cmd : table.All()) {
    const size_t index = table.Index(*cmd);
    ASSERT_LT(index, table.size());
    EXPECT_EQ(&table.At(index), cmd);
  }
}

TEST(LatencyHistogramTest, BucketsHoldTheirUpperBound) {
  LatencyHistogram h;
  h.Record(0);               // first bucket
  h.Record(50'000);          // exactly 50 µs: still the first (le is inclusive)
  h.Record(50'001);          // the second
  h.Record(1'000'000);       // 1 ms: the bucket le=0.001
  h.Record(60'000'000'000);  // beyond 10 s: +Inf
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(1), 1u);
  size_t one_ms = 0;
  while (kLatencyBucketBounds[one_ms] != 0.001) ++one_ms;
  EXPECT_EQ(h.bucket(one_ms), 1u);
  EXPECT_EQ(h.bucket(LatencyHistogram::kBuckets - 1), 1u);
  uint64_t total = 0;
  for (size_t b = 0; b < LatencyHistogram::kBuckets; ++b) total += h.bucket(b);
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(h.sum_ns(), 50'000u + 50'001u + 1'000'000u + 60'000'000'000u);
}

// BucketOf against the definition (the first bucket whose bound is >= the value): at every bound
// and its neighbours, every power of two and its neighbours, and the extremes.
TEST(LatencyHistogramTest, BucketOfMatchesALinearScan) {
  std::vector<uint64_t> values = {0, 1, UINT64_MAX};
  for (const uint64_t bound : kLatencyBoundsNs) {
    values.insert(values.end(), {bound - 1, bound, bound + 1});
  }
  for (int k = 1; k < 64; ++k) {
    const uint64_t power = uint64_t{1} << k;
    values.insert(values.end(), {power - 1, power, power + 1});
  }
  for (const uint64_t value : values) {
    size_t expected = 0;
    while (expected < kLatencyBoundsNs.size() && value > kLatencyBoundsNs[expected]) ++expected;
    EXPECT_EQ(LatencyHistogram::BucketOf(value), expected) << "value " << value;
  }
}

TEST(CommandStatsTest, RecordsLatencyCallsAndErrorsByCommand) {
  CommandStats stats;
  CommandStamp get = stats.Stamp(Command("get"), 1000);
  ASSERT_TRUE(get.set);
  EXPECT_EQ(get.command_class, CommandClass::kRead);
  stats.Record(get, get.start_ns + 2'000'000, /*error=*/false);  // 2 ms
  stats.Record(get, get.start_ns + 10, /*error=*/true);
  // A subcommand counts under its command.
  CommandStamp config_get = stats.Stamp(Subcommand("config", "get"), 2000);
  stats.Record(config_get, config_get.start_ns, false);

  const CommandTable& table = CommandTable::Get();
  const size_t get_index = table.Index(Command("get"));
  EXPECT_EQ(stats.calls(get_index), 2u);
  EXPECT_EQ(stats.ok(get_index), 1u);
  EXPECT_EQ(stats.errors(get_index), 1u);
  EXPECT_EQ(stats.calls(table.Index(Command("config"))), 1u);
  EXPECT_EQ(stats.calls(table.Index(Command("set"))), 0u);
  EXPECT_EQ(stats.latency(CommandClass::kRead).sum_ns(), 2'000'010u);
  EXPECT_EQ(stats.latency(CommandClass::kWrite).sum_ns(), 0u);
}

}  // namespace
}  // namespace slotplane::dataplane
