// Commands for the whole keyspace and the whole cluster through slotplane-proxy: fanned out to
// every master (or every node) and reduced to what one Redis would answer.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

class ProxyKeyspaceTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(client_, proxy().Connect());
    // Every test starts from an empty keyspace.
    ASSERT_EQ(client_->Command({"FLUSHALL"}), Reply::Status("OK"));
  }

  // `argv` on every master, straight to the node.
  std::vector<Reply> OnMasters(const Command& argv) {
    std::vector<Reply> replies;
    absl::StatusOr<std::vector<int>> masters = cluster().Masters();
    EXPECT_TRUE(masters.ok()) << masters.status();
    for (int node : masters.value_or(std::vector<int>{})) {
      absl::StatusOr<std::unique_ptr<TestClient>> client = cluster().Connect(node);
      EXPECT_TRUE(client.ok()) << client.status();
      if (client.ok()) replies.push_back((*client)->Command(argv));
    }
    return replies;
  }

  // `argv` on every running node, masters and replicas.
  std::vector<Reply> OnAllNodes(const Command& argv) {
    std::vector<Reply> replies;
    for (int node = 0; node < cluster().node_count(); ++node) {
      absl::StatusOr<std::unique_ptr<TestClient>> client = cluster().Connect(node);
      EXPECT_TRUE(client.ok()) << client.status();
      if (client.ok()) replies.push_back((*client)->Command(argv));
    }
    return replies;
  }

  void Load(const std::string& prefix, int count) {
    std::vector<Command> sets;
    for (int i = 0; i < count; ++i) sets.push_back({"SET", absl::StrCat(prefix, ":", i), "v"});
    for (size_t start = 0; start < sets.size(); start += 5000) {
      const size_t end = std::min(sets.size(), start + 5000);
      for (const Reply& r : client_->Pipeline(Command2(sets, start, end))) {
        ASSERT_EQ(r, Reply::Status("OK"));
      }
    }
  }

  static std::vector<Command> Command2(const std::vector<Command>& all, size_t begin, size_t end) {
    return std::vector<Command>(all.begin() + begin, all.begin() + end);
  }

  std::unique_ptr<TestClient> client_;
};

TEST_F(ProxyKeyspaceTest, DbsizeSumsAndKeysConcatenates) {
  EXPECT_EQ(client_->Command({"DBSIZE"}), Reply::Integer(0));
  EXPECT_EQ(client_->Command({"KEYS", "*"}), Reply::Array({}));
  Load("ks", 1000);
  EXPECT_EQ(client_->Command({"DBSIZE"}), Reply::Integer(1000));
  long long direct = 0;
  for (const Reply& r : OnMasters({"DBSIZE"})) direct += r.integer;
  EXPECT_EQ(direct, 1000);
  const Reply keys = client_->Command({"KEYS", "ks:1*"});
  ASSERT_EQ(keys.type, Reply::Type::kArray);
  std::set<std::string> names;
  for (const Reply& k : keys.elements) names.insert(k.str);
  EXPECT_EQ(names.size(), keys.elements.size());
  EXPECT_EQ(names.size(), 111u);  // ks:1, ks:10..19, ks:100..199
  EXPECT_EQ(names.count("ks:123"), 1u);
}

TEST_F(ProxyKeyspaceTest, ScanWalksFiftyThousandKeysExactlyOnce) {
  constexpr int kKeys = 50000;
  Load("scan", kKeys);
  std::map<std::string, int> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    const Reply reply = client_->Command({"SCAN", cursor, "COUNT", "1000"});
    ASSERT_EQ(reply.type, Reply::Type::kArray) << reply;
    ASSERT_EQ(reply.elements.size(), 2u);
    cursor = reply.elements[0].str;
    for (const Reply& key : reply.elements[1].elements) ++seen[key.str];
    ASSERT_LT(++calls, 10000) << "SCAN does not end";
  } while (cursor != "0");
  EXPECT_EQ(seen.size(), static_cast<size_t>(kKeys));
  int repeated = 0;
  for (const auto& [key, count] : seen) repeated += count > 1;
  EXPECT_EQ(repeated, 0);
}

TEST_F(ProxyKeyspaceTest, ScanPassesMatchCountAndType) {
  Load("scanm", 500);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(client_->Command({"LPUSH", absl::StrCat("scanlist:", i), "x"}), Reply::Integer(1));
  }
  auto full_scan = [&](const Command& options) {
    std::set<std::string> keys;
    std::string cursor = "0";
    int calls = 0;
    do {
      Command argv{"SCAN", cursor};
      argv.insert(argv.end(), options.begin(), options.end());
      const Reply reply = client_->Command(argv);
      EXPECT_EQ(reply.type, Reply::Type::kArray) << reply;
      if (reply.type != Reply::Type::kArray) break;
      cursor = reply.elements[0].str;
      for (const Reply& key : reply.elements[1].elements) keys.insert(key.str);
      if (++calls > 10000) break;
    } while (cursor != "0");
    return keys;
  };
  const std::set<std::string> lists = full_scan({"TYPE", "list"});
  EXPECT_EQ(lists.size(), 20u);
  const std::set<std::string> matched = full_scan({"MATCH", "scanm:4?", "COUNT", "7"});
  EXPECT_EQ(matched.size(), 10u);
  EXPECT_EQ(client_->Command({"SCAN", "not-a-number"}), Reply::Error("ERR invalid cursor"));
  EXPECT_EQ(client_->Command({"SCAN", "1023"}), Reply::Error("ERR invalid cursor"));
}

TEST_F(ProxyKeyspaceTest, RandomKeyFindsKeysOnAnyMaster) {
  EXPECT_EQ(client_->Command({"RANDOMKEY"}), Reply::Nil());
  // One key only, on one master: RANDOMKEY must find it whichever master is asked first.
  const std::string key = KeyInSlot(9000, "only");
  ASSERT_EQ(client_->Command({"SET", key, "1"}), Reply::Status("OK"));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(client_->Command({"RANDOMKEY"}), Reply::String(key));
  Load("rk", 300);
  std::set<std::string> distinct;
  for (int i = 0; i < 100; ++i) distinct.insert(client_->Command({"RANDOMKEY"}).str);
  EXPECT_GT(distinct.size(), 10u);
}

TEST_F(ProxyKeyspaceTest, FlushAllAndFlushDbReachEveryMaster) {
  for (const Command& flush : std::vector<Command>{
           {"FLUSHALL", "ASYNC"}, {"FLUSHALL", "SYNC"}, {"FLUSHDB", "ASYNC"}, {"FLUSHDB"}}) {
    Load("fl", 300);
    EXPECT_EQ(client_->Command(flush), Reply::Status("OK")) << flush[0];
    ASSERT_TRUE(WaitFor(
        [&] {
          for (const Reply& r : OnMasters({"DBSIZE"})) {
            if (r != Reply::Integer(0)) return false;
          }
          return true;
        },
        absl::Seconds(10)))
        << flush[0] << " left keys on a master";
    EXPECT_EQ(client_->Command({"DBSIZE"}), Reply::Integer(0));
  }
}

TEST_F(ProxyKeyspaceTest, ScriptsLoadedOnEveryMaster) {
  ASSERT_EQ(client_->Command({"SCRIPT", "FLUSH"}), Reply::Status("OK"));
  const Reply sha = client_->Command({"SCRIPT", "LOAD", "return 'ks-script'"});
  ASSERT_EQ(sha.type, Reply::Type::kString) << sha;
  for (const Reply& r : OnMasters({"SCRIPT", "EXISTS", sha.str})) {
    EXPECT_EQ(r, Reply::Array({Reply::Integer(1)}));
  }
  const std::string missing(40, 'f');
  EXPECT_EQ(client_->Command({"SCRIPT", "EXISTS", sha.str, missing}),
            Reply::Array({Reply::Integer(1), Reply::Integer(0)}));
  // Loaded on one master only: EXISTS is an AND over the masters.
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> one, cluster().Connect(masters[0]));
  const Reply partial = one->Command({"SCRIPT", "LOAD", "return 'only-one'"});
  EXPECT_EQ(client_->Command({"SCRIPT", "EXISTS", partial.str}), Reply::Array({Reply::Integer(0)}));
  EXPECT_EQ(client_->Command({"SCRIPT", "KILL"}).str.rfind("NOTBUSY", 0), 0u);
  EXPECT_EQ(client_->Command({"SCRIPT", "FLUSH", "ASYNC"}), Reply::Status("OK"));
  for (const Reply& r : OnMasters({"SCRIPT", "EXISTS", sha.str})) {
    EXPECT_EQ(r, Reply::Array({Reply::Integer(0)}));
  }
}

TEST_F(ProxyKeyspaceTest, FunctionsLoadedOnEveryMaster) {
  ASSERT_EQ(client_->Command({"FUNCTION", "FLUSH"}), Reply::Status("OK"));
  const std::string library =
      "#!lua name=kslib\nredis.register_function('ks_echo', function(keys, args) return "
      "args[1] end)";
  EXPECT_EQ(client_->Command({"FUNCTION", "LOAD", library}), Reply::String("kslib"));
  for (const Reply& r : OnMasters({"FUNCTION", "LIST", "LIBRARYNAME", "kslib"})) {
    EXPECT_EQ(r.elements.size(), 1u) << r;
  }
  const Reply listed = client_->Command({"FUNCTION", "LIST"});
  EXPECT_EQ(listed.elements.size(), 1u) << listed;
  EXPECT_EQ(client_->Command({"FUNCTION", "LOAD", library}).str,
            "ERR Library 'kslib' already exists");
  EXPECT_EQ(client_->Command({"FUNCTION", "DELETE", "kslib"}), Reply::Status("OK"));
  for (const Reply& r : OnMasters({"FUNCTION", "LIST"})) EXPECT_EQ(r, Reply::Array({}));
  const Reply dumped_empty = client_->Command({"FUNCTION", "DUMP"});
  EXPECT_EQ(dumped_empty.type, Reply::Type::kString);
  ASSERT_EQ(client_->Command({"FUNCTION", "LOAD", library}), Reply::String("kslib"));
  const Reply dump = client_->Command({"FUNCTION", "DUMP"});
  ASSERT_EQ(client_->Command({"FUNCTION", "FLUSH", "SYNC"}), Reply::Status("OK"));
  for (const Reply& r : OnMasters({"FUNCTION", "LIST"})) EXPECT_EQ(r, Reply::Array({}));
  EXPECT_EQ(client_->Command({"FUNCTION", "RESTORE", dump.str}), Reply::Status("OK"));
  for (const Reply& r : OnMasters({"FUNCTION", "LIST"})) EXPECT_EQ(r.elements.size(), 1u);
  ASSERT_EQ(client_->Command({"FUNCTION", "FLUSH"}), Reply::Status("OK"));
}

TEST_F(ProxyKeyspaceTest, LastSaveTimeAndConfigGet) {
  const Reply lastsave = client_->Command({"LASTSAVE"});
  ASSERT_EQ(lastsave.type, Reply::Type::kInteger) << lastsave;
  long long oldest = -1;
  for (const Reply& r : OnMasters({"LASTSAVE"})) {
    if (oldest < 0 || r.integer < oldest) oldest = r.integer;
  }
  EXPECT_EQ(lastsave.integer, oldest);
  const Reply time = client_->Command({"TIME"});
  ASSERT_EQ(time.elements.size(), 2u) << time;
  EXPECT_EQ(client_->Command({"CONFIG", "GET", "maxmemory-policy"}),
            Reply::Array({Reply::String("maxmemory-policy"), Reply::String("noeviction")}));
}

TEST_F(ProxyKeyspaceTest, ConfigSetReachesMastersAndReplicas) {
  EXPECT_EQ(client_->Command({"CONFIG", "SET", "slowlog-max-len", "77"}), Reply::Status("OK"));
  for (const Reply& r : OnAllNodes({"CONFIG", "GET", "slowlog-max-len"})) {
    EXPECT_EQ(r, Reply::Array({Reply::String("slowlog-max-len"), Reply::String("77")}));
  }
  const Reply bad = client_->Command({"CONFIG", "SET", "no-such-option", "1"});
  ASSERT_EQ(bad.type, Reply::Type::kError);
  EXPECT_TRUE(absl::StrContains(bad.str, "no-such-option")) << bad;
  EXPECT_TRUE(absl::StrContains(bad.str, "(cluster node 127.0.0.1:")) << bad;
  EXPECT_TRUE(absl::StrContains(bad.str, "0 of 6 nodes succeeded")) << bad;
  ASSERT_EQ(client_->Command({"CONFIG", "SET", "slowlog-max-len", "128"}), Reply::Status("OK"));
  // RESETSTAT: every node's counters restart.
  EXPECT_EQ(client_->Command({"CONFIG", "RESETSTAT"}), Reply::Status("OK"));
  for (const Reply& r : OnAllNodes({"INFO", "stats"})) {
    const std::map<std::string, std::string> info = ParseInfoText(r.str);
    long long processed = 0;
    ASSERT_TRUE(absl::SimpleAtoi(info.at("total_commands_processed"), &processed));
    EXPECT_LT(processed, 50);
  }
}

TEST_F(ProxyKeyspaceTest, InfoLooksLikeOneServer) {
  Load("info", 120);
  const Reply all = client_->Command({"INFO"});
  ASSERT_EQ(all.type, Reply::Type::kString) << all;
  EXPECT_EQ(all.str.rfind("# Proxy\r\n", 0), 0u);
  const std::map<std::string, std::string> info = ParseInfoText(all.str);
  EXPECT_EQ(info.at("redis_mode"), "standalone");
  EXPECT_EQ(info.at("redis_version").substr(0, 2), "7.");
  EXPECT_EQ(info.at("tcp_port"), absl::StrCat(proxy().port()));
  EXPECT_EQ(info.at("process_id"), absl::StrCat(proxy().pid()));
  EXPECT_EQ(info.at("role"), "master");
  EXPECT_EQ(info.at("cluster_enabled"), "0");
  EXPECT_TRUE(absl::StartsWith(info.at("db0"), "keys=120,")) << info.at("db0");
  const Reply server = client_->Command({"INFO", "server"});
  EXPECT_EQ(server.str.rfind("# Server\r\n", 0), 0u) << server;
  EXPECT_FALSE(absl::StrContains(server.str, "# Keyspace"));
  const std::map<std::string, std::string> fields = ParseInfoText(server.str);
  for (const char* field : {"redis_version", "redis_mode", "os", "process_id", "run_id",
                            "arch_bits", "tcp_port", "uptime_in_seconds"}) {
    EXPECT_EQ(fields.count(field), 1u) << field;
  }
  const Reply keyspace = client_->Command({"INFO", "keyspace"});
  EXPECT_EQ(keyspace.str, "# Keyspace\r\ndb0:keys=120,expires=0,avg_ttl=0\r\n");
  const Reply stats = client_->Command({"INFO", "stats"});
  long long processed = 0, direct = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(ParseInfoText(stats.str).at("total_commands_processed"), &processed));
  for (const Reply& r : OnMasters({"INFO", "stats"})) {
    long long n = 0;
    ASSERT_TRUE(absl::SimpleAtoi(ParseInfoText(r.str).at("total_commands_processed"), &n));
    direct += n;
  }
  EXPECT_GT(processed, 120);
  EXPECT_LE(processed, direct);
  EXPECT_EQ(client_->Command({"INFO", "proxy"}).str.rfind("# Proxy\r\n", 0), 0u);
}

// The fields whose rule is not "sum" or "first master" (docs/info-merge.md), against the masters
// read directly right after: no other traffic runs meanwhile, so the numbers are stable.
TEST_F(ProxyKeyspaceTest, InfoFieldsMergeAsDocumented) {
  auto merged = [&](const std::string& section) {
    const Reply r = client_->Command({"INFO", section});
    EXPECT_EQ(r.type, Reply::Type::kString) << r;
    return ParseInfoText(r.str);
  };
  auto direct = [&](const std::string& section) {
    std::vector<std::map<std::string, std::string>> infos;
    for (const Reply& r : OnMasters({"INFO", section})) infos.push_back(ParseInfoText(r.str));
    return infos;
  };
  auto number = [](const std::string& text) {
    long long n = 0;
    EXPECT_TRUE(absl::SimpleAtoi(text, &n)) << text;
    return n;
  };
  // SCRIPT LOAD reaches every master: three new scripts count three, not three per master.
  const long long scripts_before = number(merged("memory").at("number_of_cached_scripts"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        client_->Command({"SCRIPT", "LOAD", absl::StrCat("return 'info-merge-", i, "'")}).type,
        Reply::Type::kString);
  }
  const std::map<std::string, std::string> memory = merged("memory");
  EXPECT_EQ(number(memory.at("number_of_cached_scripts")), scripts_before + 3);
  long long most_scripts = 0, used_memory = 0, maxmemory = 0;
  bool unlimited = false;
  for (const auto& info : direct("memory")) {
    most_scripts = std::max(most_scripts, number(info.at("number_of_cached_scripts")));
    unlimited = unlimited || info.at("maxmemory") == "0";
    maxmemory += number(info.at("maxmemory"));
    used_memory += number(info.at("used_memory"));
  }
  EXPECT_EQ(number(memory.at("number_of_cached_scripts")), most_scripts);
  // No limit on one master (the fixture's default): no limit for the cluster.
  EXPECT_EQ(number(memory.at("maxmemory")), unlimited ? 0 : maxmemory);
  // Ratios are recomputed from the sums (two decimals, as Redis prints them).
  const double frag = std::stod(memory.at("mem_fragmentation_ratio"));
  const double expected_frag = static_cast<double>(number(memory.at("used_memory_rss"))) /
                               static_cast<double>(number(memory.at("used_memory")));
  EXPECT_NEAR(frag, expected_frag, 0.006) << memory.at("mem_fragmentation_ratio");
  EXPECT_GT(number(memory.at("used_memory")), used_memory / 2);

  // Writes since the last save: every master's, summed (not the first master's).
  Load("info-merge", 200);
  const std::map<std::string, std::string> persistence = merged("persistence");
  long long changes = 0, oldest_save = 0;
  for (const auto& info : direct("persistence")) {
    changes += number(info.at("rdb_changes_since_last_save"));
    const long long save = number(info.at("rdb_last_save_time"));
    oldest_save = oldest_save == 0 ? save : std::min(oldest_save, save);
  }
  EXPECT_EQ(number(persistence.at("rdb_changes_since_last_save")), changes);
  EXPECT_GE(changes, 200);
  EXPECT_EQ(number(persistence.at("rdb_last_save_time")), oldest_save);
  EXPECT_EQ(persistence.at("rdb_last_bgsave_status"), "ok");

  // The version every master supports, as HELLO reports it.
  const std::map<std::string, std::string> server = merged("server");
  for (const auto& info : direct("server")) {
    EXPECT_EQ(server.at("redis_version"), info.at("redis_version"));  // one Redis build here
  }
  const Reply hello = client_->Command({"HELLO", "2"});
  ASSERT_EQ(hello.type, Reply::Type::kArray) << hello;
  ASSERT_GE(hello.elements.size(), 4u) << hello;
  EXPECT_EQ(hello.elements[3], Reply::String(server.at("redis_version")));

  // The cluster bus is hidden; connections are the proxy's clients'.
  const std::map<std::string, std::string> clients = merged("clients");
  EXPECT_EQ(clients.at("cluster_connections"), "0");
  const long long received_before = number(merged("stats").at("total_connections_received"));
  std::vector<std::unique_ptr<TestClient>> extra;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> c, proxy().Connect());
    ASSERT_EQ(c->Command({"PING"}), Reply::Status("PONG"));
    extra.push_back(std::move(c));
  }
  EXPECT_EQ(number(merged("stats").at("total_connections_received")), received_before + 3);
  EXPECT_EQ(merged("stats").at("rejected_connections"), "0");
}

// Key-routed introspection goes to the key's owner, like any keyed command.
TEST_F(ProxyKeyspaceTest, KeyIntrospectionRoutesByKey) {
  for (int i = 0; i < 30; ++i) {
    const std::string key = absl::StrCat("intro:", i);
    ASSERT_EQ(client_->Command({"SET", key, std::string(100, 'x'), "EX", "1000"}),
              Reply::Status("OK"));
    for (const Command& argv : std::vector<Command>{{"TYPE", key},
                                                    {"OBJECT", "ENCODING", key},
                                                    {"OBJECT", "REFCOUNT", key},
                                                    {"MEMORY", "USAGE", key},
                                                    {"EXPIRETIME", key},
                                                    {"STRLEN", key},
                                                    {"EXISTS", key}}) {
      ASSERT_OK_AND_ASSIGN(const int owner, cluster().SlotOwner(KeyHashSlot(key)));
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> node, cluster().Connect(owner));
      EXPECT_EQ(client_->Command(argv), node->Command(argv)) << argv[0] << " " << key;
    }
    const Reply ttl = client_->Command({"TTL", key});
    EXPECT_GT(ttl.integer, 990) << ttl;
    EXPECT_GT(client_->Command({"PTTL", key}).integer, 990000);
  }
}

}  // namespace
}  // namespace slotplane::integration
