// Scripts and functions through slotplane-proxy: EVAL/EVALSHA/EVAL_RO/EVALSHA_RO/FCALL/FCALL_RO
// route by their declared keys (never by ARGV), all keys must share a slot, a call without keys
// runs on some master (spread over them), NOSCRIPT passes through so that clients fall back to
// EVAL, and SCRIPT LOAD / FUNCTION LOAD make a script callable whatever master its keys live on.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

const Reply kCrossSlot = Reply::Error("CROSSSLOT Keys in request don't hash to the same slot");
constexpr char kSetScript[] = "return redis.call('SET', KEYS[1], ARGV[1])";
constexpr char kGetScript[] = "return redis.call('GET', KEYS[1])";
constexpr char kLibrary[] =
    "#!lua name=sclib\n"
    "redis.register_function('sc_set', function(keys, args) return redis.call('SET', keys[1], "
    "args[1]) end)\n"
    "redis.register_function{function_name='sc_get', callback=function(keys, args) return "
    "redis.call('GET', keys[1]) end, flags={'no-writes'}}\n"
    "redis.register_function('sc_echo', function(keys, args) return args[1] end)";

class ProxyScriptsTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(client_, proxy().Connect());
  }

  // The value of `key` read straight from its owner.
  Reply OnOwner(const Command& argv, const std::string& key) {
    absl::StatusOr<int> owner = cluster().SlotOwner(KeyHashSlot(key));
    if (!owner.ok()) return Reply::TransportError(owner.status().ToString());
    absl::StatusOr<std::unique_ptr<TestClient>> node = cluster().Connect(*owner);
    if (!node.ok()) return Reply::TransportError(node.status().ToString());
    return (*node)->Command(argv);
  }

  // cmdstat_<name> calls on each master.
  std::vector<long long> CallsOnMasters(const std::string& name) {
    std::vector<long long> calls;
    absl::StatusOr<std::vector<int>> masters = cluster().Masters();
    for (int node : masters.value_or(std::vector<int>{})) {
      absl::StatusOr<std::unique_ptr<TestClient>> c = cluster().Connect(node);
      long long n = 0;
      if (c.ok()) {
        const std::map<std::string, std::string> info =
            ParseInfoText((*c)->Command({"INFO", "commandstats"}).str);
        auto it = info.find("cmdstat_" + name);
        if (it != info.end()) {
          for (absl::string_view field : absl::StrSplit(it->second, ',')) {
            if (absl::ConsumePrefix(&field, "calls=")) (void)absl::SimpleAtoi(field, &n);
          }
        }
      }
      calls.push_back(n);
    }
    return calls;
  }

  std::unique_ptr<TestClient> client_;
};

TEST_F(ProxyScriptsTest, EvalRoutesByDeclaredKeys) {
  for (int i = 0; i < 200; ++i) {
    const std::string key = absl::StrCat("sc-eval:", i);
    // ARGV is never taken for a key (a redis-cluster-proxy bug): the value names another slot.
    ASSERT_EQ(client_->Command({"EVAL", kSetScript, "1", key, absl::StrCat("other-slot-", i)}),
              Reply::Status("OK"));
    ASSERT_EQ(OnOwner({"GET", key}, key), Reply::String(absl::StrCat("other-slot-", i)));
    ASSERT_EQ(client_->Command({"EVAL_RO", kGetScript, "1", key}),
              Reply::String(absl::StrCat("other-slot-", i)));
  }
  // Several keys in one slot are fine; in several slots they are refused.
  EXPECT_EQ(client_->Command({"EVAL", "return #KEYS", "3", "{sc}a", "{sc}b", "{sc}c"}),
            Reply::Integer(3));
  EXPECT_EQ(
      client_->Command({"EVAL", "return #KEYS", "2", KeyInSlot(1, "sc"), KeyInSlot(16000, "sc")}),
      kCrossSlot);
  // A malformed key count is Redis's own error.
  EXPECT_EQ(client_->Command({"EVAL", "return 1", "5", "a"}).type, Reply::Type::kError);
  EXPECT_EQ(client_->Command({"EVAL", "return 1", "x"}),
            Reply::Error("ERR value is not an integer or out of range"));
}

TEST_F(ProxyScriptsTest, NoKeysRunsOnSomeMasterSpreadOverAll) {
  const std::vector<long long> before = CallsOnMasters("eval");
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(client_->Command({"EVAL", "return ARGV[1]", "0", absl::StrCat(i)}),
              Reply::String(absl::StrCat(i)));
  }
  const std::vector<long long> after = CallsOnMasters("eval");
  ASSERT_EQ(after.size(), before.size());
  for (size_t m = 0; m < after.size(); ++m) {
    EXPECT_GT(after[m], before[m]) << "master " << m << " never ran a keyless EVAL";
  }
}

TEST_F(ProxyScriptsTest, NoScriptPassesThroughAndLoadReachesEveryMaster) {
  ASSERT_EQ(client_->Command({"SCRIPT", "FLUSH"}), Reply::Status("OK"));
  const std::string script = "return redis.call('INCR', KEYS[1])";
  // What a client library does: EVALSHA, NOSCRIPT, then EVAL (which caches it on that node).
  const std::string sha = client_->Command({"SCRIPT", "LOAD", script}).str;
  ASSERT_EQ(sha.size(), 40u);
  ASSERT_EQ(client_->Command({"SCRIPT", "FLUSH"}), Reply::Status("OK"));
  const std::string key = "sc-noscript";
  const Reply missing = client_->Command({"EVALSHA", sha, "1", key});
  EXPECT_EQ(missing, Reply::Error("NOSCRIPT No matching script. Please use EVAL."));
  EXPECT_EQ(client_->Command({"EVAL", script, "1", key}), Reply::Integer(1));
  EXPECT_EQ(client_->Command({"EVALSHA", sha, "1", key}), Reply::Integer(2));
  EXPECT_EQ(client_->Command({"EVALSHA_RO", sha, "1", key}).type, Reply::Type::kError);
  // SCRIPT LOAD through the proxy: EVALSHA works for keys on every master.
  ASSERT_EQ(client_->Command({"SCRIPT", "LOAD", script}), Reply::String(sha));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
  std::set<int> reached;
  for (int i = 0; i < 100; ++i) {
    const std::string k = absl::StrCat("sc-sha:", i);
    ASSERT_EQ(client_->Command({"EVALSHA", sha, "1", k}), Reply::Integer(1)) << k;
    reached.insert(owners[KeyHashSlot(k)]);
  }
  EXPECT_EQ(reached.size(), masters.size());
  const std::string ro_sha = client_->Command({"SCRIPT", "LOAD", kGetScript}).str;
  EXPECT_EQ(client_->Command({"EVALSHA_RO", ro_sha, "1", "sc-sha:7"}), Reply::String("1"));
}

// One Redis has one script cache; a cluster has one per master. EVAL through the proxy makes
// EVALSHA of its script work for keys on every master, as on one Redis: the proxy loads the
// script on a master that answers NOSCRIPT and sends the EVALSHA again (core/script_cache.h).
TEST_F(ProxyScriptsTest, EvalshaAfterEvalWorksOnEveryMaster) {
  ASSERT_EQ(client_->Command({"SCRIPT", "FLUSH"}), Reply::Status("OK"));
  const std::string script = "return redis.call('INCRBY', KEYS[1], 10)";
  const std::string first = "sc-cache:0";
  ASSERT_EQ(client_->Command({"EVAL", script, "1", first}), Reply::Integer(10));
  const std::string sha = client_->Command({"SCRIPT", "LOAD", script}).str;
  ASSERT_EQ(sha.size(), 40u);
  // SCRIPT LOAD reached every master; flush them behind the proxy's back except the first
  // key's owner, so that only EVAL's cache entry is left, on one master.
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
  const int first_owner = owners[KeyHashSlot(first)];
  for (int node : masters) {
    if (node == first_owner) continue;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> direct, cluster().Connect(node));
    ASSERT_EQ(direct->Command({"SCRIPT", "FLUSH"}), Reply::Status("OK"));
    ASSERT_EQ(direct->Command({"SCRIPT", "EXISTS", sha}).elements.at(0), Reply::Integer(0));
  }
  // SCRIPT EXISTS answers as one Redis: the proxy can run it anywhere.
  const Reply exists = client_->Command({"SCRIPT", "EXISTS", sha, std::string(40, '0')});
  ASSERT_EQ(exists.elements.size(), 2u) << exists.str;
  EXPECT_EQ(exists.elements[0], Reply::Integer(1));
  EXPECT_EQ(exists.elements[1], Reply::Integer(0));
  std::set<int> reached;
  for (int i = 1; i < 100; ++i) {
    const std::string k = absl::StrCat("sc-cache:", i);
    ASSERT_EQ(client_->Command({"EVALSHA", sha, "1", k}), Reply::Integer(10)) << k;
    reached.insert(owners[KeyHashSlot(k)]);
  }
  EXPECT_EQ(reached.size(), masters.size());
  const std::string info = client_->Command({"PROXY", "INFO"}).str;
  const std::map<std::string, std::string> fields = ParseInfoText(info);
  long long reloaded = 0;
  ASSERT_TRUE(fields.count("scripts_reloaded")) << info;
  ASSERT_TRUE(absl::SimpleAtoi(fields.at("scripts_reloaded"), &reloaded));
  EXPECT_GE(reloaded, static_cast<long long>(masters.size()) - 1);
  // SCRIPT FLUSH through the proxy forgets it, as Redis does.
  ASSERT_EQ(client_->Command({"SCRIPT", "FLUSH"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"EVALSHA", sha, "1", first}),
            Reply::Error("NOSCRIPT No matching script. Please use EVAL."));
  EXPECT_EQ(client_->Command({"SCRIPT", "EXISTS", sha}).elements.at(0), Reply::Integer(0));
}

TEST_F(ProxyScriptsTest, FunctionsRouteByKeys) {
  ASSERT_EQ(client_->Command({"FUNCTION", "FLUSH"}), Reply::Status("OK"));
  ASSERT_EQ(client_->Command({"FUNCTION", "LOAD", kLibrary}), Reply::String("sclib"));
  for (int i = 0; i < 100; ++i) {
    const std::string key = absl::StrCat("sc-fcall:", i);
    ASSERT_EQ(client_->Command({"FCALL", "sc_set", "1", key, absl::StrCat("f", i)}),
              Reply::Status("OK"));
    ASSERT_EQ(OnOwner({"GET", key}, key), Reply::String(absl::StrCat("f", i)));
    ASSERT_EQ(client_->Command({"FCALL_RO", "sc_get", "1", key}),
              Reply::String(absl::StrCat("f", i)));
  }
  EXPECT_EQ(client_->Command({"FCALL", "sc_echo", "0", "hello"}), Reply::String("hello"));
  EXPECT_EQ(
      client_->Command({"FCALL", "sc_set", "2", KeyInSlot(2, "fc"), KeyInSlot(9999, "fc"), "v"}),
      kCrossSlot);
  EXPECT_EQ(client_->Command({"FCALL", "no_such_function", "0"}),
            Reply::Error("ERR Function not found"));
  ASSERT_EQ(client_->Command({"FUNCTION", "FLUSH"}), Reply::Status("OK"));
}

}  // namespace
}  // namespace slotplane::integration
