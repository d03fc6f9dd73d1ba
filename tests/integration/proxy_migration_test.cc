// Resharding under load: one slot moves between masters, step by step, and back while a client
// keeps writing and reading its keys through the proxy. The client must never see an error or a
// wrong value; the proxy must have followed both ASK (mid-migration) and MOVED (afterwards).

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/traffic.h"

namespace slotplane::integration {
namespace {

constexpr char kTag[] = "migrating";
constexpr int kKeys = 300;
constexpr int kKeysPerBatch = 10;       // keys per MIGRATE
constexpr int kRoundsBetweenSteps = 5;  // client rounds between two migration steps
constexpr int kMaxBatches = 10000;      // bound on the MIGRATE loop

std::string SlotKey(const std::string& name) { return absl::StrCat("{", kTag, "}:", name); }

class ProxyMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start());
    ProxyOptions options;
    options.seeds = cluster_->addresses();
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(options));
  }

  // Moves the slot with pauses between all steps, during which the traffic keeps going.
  void MigrateUnderTraffic(uint16_t slot, int source, int target, BackgroundTraffic& traffic) {
    SlotMigration migration(*cluster_, slot, source, target);
    ASSERT_OK(migration.Begin());
    ASSERT_TRUE(traffic.WaitForRounds(kRoundsBetweenSteps));
    int batches = 0;
    for (; batches < kMaxBatches; ++batches) {
      ASSERT_OK_AND_ASSIGN(const int moved, migration.MoveKeys(kKeysPerBatch));
      if (moved == 0) break;
      ASSERT_TRUE(traffic.WaitForRounds(kRoundsBetweenSteps));
    }
    ASSERT_LT(batches, kMaxBatches);
    ASSERT_GT(batches, 1) << "the slot should have taken several batches to move";
    ASSERT_OK(migration.Finish());
    ASSERT_TRUE(traffic.WaitForRounds(kRoundsBetweenSteps));
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyMigrationTest, SlotMovesAndReturnsUnderTrafficWithoutErrors) {
  const uint16_t slot = KeyHashSlot(kTag);
  ASSERT_OK_AND_ASSIGN(const int source, cluster_->SlotOwner(slot));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster_->Masters());
  const int target = masters[0] != source ? masters[0] : masters[1];

  // The slot's keys exist before the migration starts.
  TrafficOptions options;
  options.port = proxy_->port();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy_->Connect());
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = SlotKey(absl::StrCat("key:", i));
    const std::string value = absl::StrCat("initial:", i);
    ASSERT_EQ(client->Command({"SET", key, value}), Reply::Status("OK"));
    options.keys.push_back(key);
    options.initial_values[key] = value;
  }
  // Keys created during the migration find the slot half moved (ASK for a missing key).
  options.fresh_key = [](int64_t round) { return SlotKey(absl::StrCat("fresh:", round)); };
  options.fresh_key_every = 5;
  options.keys_per_round = 10;
  options.max_duration = absl::Seconds(20);
  ASSERT_OK_AND_ASSIGN(const int64_t ask_before, proxy_->InfoCounter("ask_redirects"));
  ASSERT_OK_AND_ASSIGN(const int64_t moved_before, proxy_->InfoCounter("moved_redirects"));

  BackgroundTraffic traffic(options);
  ASSERT_TRUE(traffic.WaitForRounds(kRoundsBetweenSteps));
  ASSERT_NO_FATAL_FAILURE(MigrateUnderTraffic(slot, source, target, traffic));
  ASSERT_NO_FATAL_FAILURE(MigrateUnderTraffic(slot, target, source, traffic));
  traffic.Stop();

  EXPECT_EQ(traffic.failures(), 0);
  for (const std::string& failure : traffic.FailureSamples()) ADD_FAILURE() << failure;
  ASSERT_OK_AND_ASSIGN(const int64_t ask_after, proxy_->InfoCounter("ask_redirects"));
  ASSERT_OK_AND_ASSIGN(const int64_t moved_after, proxy_->InfoCounter("moved_redirects"));
  EXPECT_GT(ask_after, ask_before) << "ASK was never followed: no client hit the half-moved slot";
  EXPECT_GT(moved_after, moved_before) << "MOVED was never followed after the slot changed owner";

  // Every key holds its last written value on the slot's owner (the source again).
  ASSERT_OK_AND_ASSIGN(const int owner, cluster_->SlotOwner(slot));
  EXPECT_EQ(owner, source);
  std::vector<std::vector<std::string>> gets;
  std::vector<Reply> expected;
  for (const auto& [key, value] : traffic.ExpectedValues()) {
    gets.push_back({"GET", key});
    expected.push_back(value.has_value() ? Reply::String(*value) : Reply::Nil());
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<Reply> direct, cluster_->PipelineOnOwners(gets));
  EXPECT_EQ(direct, expected);
}

}  // namespace
}  // namespace slotplane::integration
