// slotplane::KeyHashSlot against the authority: CLUSTER KEYSLOT of a real Redis Cluster node.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

SharedClusterEnvironment::Options EnvironmentOptions() {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  options.cluster.replicas_per_master = 0;  // only CLUSTER KEYSLOT is needed
  return options;
}

const auto* const kEnv = SharedClusterEnvironment::Register(EnvironmentOptions());

constexpr int kRandomKeys = 6000;
constexpr size_t kMaxReportedMismatches = 20;

// Hash-tag edge cases, binary bytes and multi-byte UTF-8.
std::vector<std::string> SpecialKeys() {
  return {"",
          "{}",
          "{{a}}",
          "a{b}c{d}",
          "{a}b",
          "a{",
          "}{a}",
          "{",
          "}",
          "{}a",
          "a{}b{c}",
          "{}{a}",
          "{{}}",
          "{a",
          "a}",
          "foo{}{bar}",
          "foo{{bar}}zap",
          "foo{bar}{zap}",
          "{user1000}.following",
          "{user1000}.followers",
          "123456789",
          std::string("\0", 1),
          std::string("{\0}", 3),
          std::string("a{\xff\x00}b", 6),
          "\xff\xfe\xfd",
          "ключ",
          "鍵{タグ}",
          "{😀}x",
          "😀{😀}😀",
          "{€}",
          std::string(1000, '{'),
          std::string(1000, '}'),
          std::string(512, 'k') + "{tag}"};
}

// Random keys of two kinds: arbitrary bytes, and keys built from a small alphabet rich in braces
// so that every placement of '{' and '}' occurs many times.
std::vector<std::string> RandomKeys(int count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::string alphabet = std::string("{}{}ab\0\xff", 8);
  std::vector<std::string> keys;
  keys.reserve(count);
  for (int i = 0; i < count; ++i) {
    const size_t length = rng() % 33;
    std::string key(length, '\0');
    for (char& c : key) {
      c = i % 2 == 0 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

class KeySlotTest : public SharedClusterTest {
 protected:
  // Asks a node for CLUSTER KEYSLOT of every key (one pipeline) and expects KeyHashSlot to agree.
  void ExpectSameSlotsAsRedis(const std::vector<std::string>& keys) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, cluster().Connect(0));
    std::vector<std::vector<std::string>> commands;
    commands.reserve(keys.size());
    for (const std::string& key : keys) commands.push_back({"CLUSTER", "KEYSLOT", key});
    const std::vector<Reply> replies = client->Pipeline(commands);
    size_t mismatches = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSERT_EQ(replies[i].type, Reply::Type::kInteger) << replies[i];
      if (KeyHashSlot(keys[i]) == replies[i].integer) continue;
      ADD_FAILURE() << "key " << Reply::String(keys[i]) << ": KeyHashSlot " << KeyHashSlot(keys[i])
                    << ", CLUSTER KEYSLOT " << replies[i].integer;
      if (++mismatches == kMaxReportedMismatches) return;
    }
  }
};

TEST_F(KeySlotTest, SpecialKeysMatchRedis) { ExpectSameSlotsAsRedis(SpecialKeys()); }

TEST_F(KeySlotTest, RandomBinaryKeysMatchRedis) {
  ExpectSameSlotsAsRedis(RandomKeys(kRandomKeys, /*seed=*/20240611));
}

// Also validates the fixture's KeyInSlot(), which the routing tests rely on.
TEST_F(KeySlotTest, KeyInSlotCoversEverySlot) {
  std::vector<std::string> keys;
  for (int slot = 0; slot < kSlotCount; ++slot) keys.push_back(KeyInSlot(slot));
  ExpectSameSlotsAsRedis(keys);
  for (int slot = 0; slot < kSlotCount; ++slot) {
    ASSERT_EQ(KeyHashSlot(keys[slot]), slot) << keys[slot];
  }
}

}  // namespace
}  // namespace slotplane::integration
