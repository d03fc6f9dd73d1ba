// CONFIG GET and CONFIG SET through slotplane-proxy never reveal or change the cluster's
// credentials: secret parameters are filtered from CONFIG GET and refused by CONFIG SET; CONFIG
// SET of a node-specific parameter (port, dir, cluster-*, ...) is refused as a whole; every other
// parameter behaves as on a node.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"

namespace slotplane::integration {
namespace {

constexpr char kPassword[] = "cluster-secret-7f3a";
constexpr char kStolen[] = "attacker-chosen-9c1d";

const std::set<std::string> kSecrets = {"requirepass", "masterauth", "masteruser",
                                        "tls-key-file-pass", "tls-client-key-file-pass"};

// Fails the test if any string anywhere in `reply` contains `bytes`.
void ExpectNoBytes(const Reply& reply, const std::string& bytes, const std::string& context) {
  EXPECT_FALSE(absl::StrContains(reply.str, bytes)) << context << ": " << reply;
  for (const Reply& element : reply.elements) ExpectNoBytes(element, bytes, context);
}

// The parameter names of a CONFIG GET reply (a flat array of name/value pairs).
std::vector<std::string> Names(const Reply& reply) {
  std::vector<std::string> names;
  EXPECT_EQ(reply.type, Reply::Type::kArray) << reply;
  EXPECT_EQ(reply.elements.size() % 2, 0u) << reply;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    names.push_back(reply.elements[i].str);
  }
  return names;
}

// A CONFIG GET reply as a map: a node lists the pairs of a glob in its dictionary's order, which
// differs from node to node.
std::map<std::string, std::string> PairMap(const Reply& reply) {
  std::map<std::string, std::string> pairs;
  EXPECT_EQ(reply.type, Reply::Type::kArray) << reply;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    pairs[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  return pairs;
}

class ProxyConfigSecretsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RedisClusterOptions cluster_options;
    cluster_options.password = kPassword;
    auto cluster = RedisCluster::Start(cluster_options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
    ProxyOptions proxy_options;
    proxy_options.seeds = cluster_->addresses();
    proxy_options.extra_args = {"--auth", kPassword};
    auto proxy = ProxyProcess::Start(proxy_options);
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = proxy->release();
  }

  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(proxy_, nullptr);
    ASSERT_OK_AND_ASSIGN(client_, proxy_->Connect());
  }

  // Every node's answer to `argv`, asked directly (authenticated with the cluster's password).
  std::vector<Reply> OnEveryNode(const std::vector<std::string>& argv) {
    std::vector<Reply> replies;
    for (int node = 0; node < cluster_->node_count(); ++node) {
      auto client = cluster_->Connect(node);
      EXPECT_TRUE(client.ok()) << client.status();
      if (!client.ok()) continue;
      replies.push_back((*client)->Command(argv));
    }
    return replies;
  }

  static RedisCluster* cluster_;
  static ProxyProcess* proxy_;
  std::unique_ptr<TestClient> client_;
};

RedisCluster* ProxyConfigSecretsTest::cluster_ = nullptr;
ProxyProcess* ProxyConfigSecretsTest::proxy_ = nullptr;

TEST_F(ProxyConfigSecretsTest, ConfigGetNeverReturnsSecrets) {
  const std::vector<std::vector<std::string>> gets = {
      {"CONFIG", "GET", "masterauth"},
      {"CONFIG", "GET", "requirepass"},
      {"config", "get", "MasterAuth"},
      {"CONFIG", "GET", "*"},
      {"CONFIG", "GET", "*pass*"},
      {"CONFIG", "GET", "*auth*"},
      {"CONFIG", "GET", "master*"},
      {"CONFIG", "GET", "maxmemory", "requirepass", "masteruser", "tls-*"},
  };
  for (const std::vector<std::string>& get : gets) {
    const std::string context = absl::StrJoin(get, " ");
    const Reply reply = client_->Command(get);
    for (const std::string& name : Names(reply)) {
      EXPECT_EQ(kSecrets.count(name), 0u) << context << " returned " << name;
    }
    ExpectNoBytes(reply, kPassword, context);
  }
  // The pattern alone decides what a node answers: only the secrets are missing.
  const Reply node_all = cluster_->Connect(0).value()->Command({"CONFIG", "GET", "*"});
  const Reply proxy_all = client_->Command({"CONFIG", "GET", "*"});
  EXPECT_EQ(Names(proxy_all).size() + kSecrets.size(), Names(node_all).size());
  EXPECT_TRUE(client_->Command({"CONFIG", "GET", "requirepass"}) == Reply::Array({}));
}

TEST_F(ProxyConfigSecretsTest, ConfigGetOfOtherParametersAnswersLikeANode) {
  for (const char* pattern : {"maxmemory", "maxmemory*", "tls-key-file"}) {
    const std::vector<std::string> get = {"CONFIG", "GET", pattern};
    const Reply node = cluster_->Connect(0).value()->Command(get);
    const Reply proxy = client_->Command(get);
    EXPECT_EQ(proxy.elements.size(), node.elements.size()) << pattern;
    EXPECT_EQ(PairMap(proxy), PairMap(node)) << pattern;
  }
  // Redis's own arity error passes through.
  EXPECT_TRUE(client_->Command({"CONFIG", "GET"}).IsError());
}

TEST_F(ProxyConfigSecretsTest, ConfigSetOfASecretIsRefusedBeforeAnyNodeSeesIt) {
  const std::vector<std::vector<std::string>> sets = {
      {"CONFIG", "SET", "requirepass", kStolen},
      {"CONFIG", "SET", "maxmemory", "0", "masterauth", kStolen},
      {"config", "set", "MASTERUSER", kStolen},
      {"CONFIG", "SET", "tls-key-file-pass", kStolen},
  };
  for (const std::vector<std::string>& set : sets) {
    const Reply reply = client_->Command(set);
    ASSERT_EQ(reply.type, Reply::Type::kError) << reply;
    EXPECT_TRUE(absl::StartsWith(reply.str, "ERR slotplane: CONFIG SET ")) << reply;
    EXPECT_TRUE(absl::StrContains(reply.str, "is refused through the proxy")) << reply;
    EXPECT_FALSE(absl::StrContains(reply.str, kStolen)) << reply;
  }
  for (const Reply& reply : OnEveryNode({"CONFIG", "GET", "requirepass"})) {
    EXPECT_EQ(reply, Reply::Array({Reply::String("requirepass"), Reply::String(kPassword)}));
  }
  for (const Reply& reply : OnEveryNode({"CONFIG", "GET", "masterauth"})) {
    EXPECT_EQ(reply, Reply::Array({Reply::String("masterauth"), Reply::String(kPassword)}));
  }
  // The proxy still reaches every node: nothing was changed.
  EXPECT_EQ(client_->Command({"SET", "config-secrets:k", "v"}), Reply::Status("OK"));
  EXPECT_GT(client_->Command({"DBSIZE"}).integer, 0);
}

TEST_F(ProxyConfigSecretsTest, ConfigSetOfOtherParametersReachesEveryNode) {
  EXPECT_EQ(client_->Command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}),
            Reply::Status("OK"));
  for (const Reply& reply : OnEveryNode({"CONFIG", "GET", "maxmemory-policy"})) {
    EXPECT_EQ(reply,
              Reply::Array({Reply::String("maxmemory-policy"), Reply::String("allkeys-lru")}));
  }
  EXPECT_EQ(client_->Command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}),
            Reply::Status("OK"));
}

// Node-specific parameters (dataplane/command/config_node_settings.h) would give every node the
// same port, directory or replication source: the whole CONFIG SET is refused, also when it
// names other parameters too (Redis's CONFIG SET is atomic), before any node sees it.
TEST_F(ProxyConfigSecretsTest, ConfigSetOfANodeSpecificParameterIsRefusedBeforeAnyNodeSeesIt) {
  const std::vector<Reply> ports_before = OnEveryNode({"CONFIG", "GET", "port"});
  const std::vector<Reply> dirs_before = OnEveryNode({"CONFIG", "GET", "dir"});
  const std::vector<Reply> policy_before = OnEveryNode({"CONFIG", "GET", "maxmemory-policy"});
  const std::vector<std::vector<std::string>> sets = {
      {"CONFIG", "SET", "port", "6399"},
      {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "port", "6399"},
      {"config", "set", "Dir", "/tmp"},
      {"CONFIG", "SET", "bind", "0.0.0.0"},
      {"CONFIG", "SET", "replicaof", "127.0.0.1 1"},
      {"CONFIG", "SET", "slaveof", "127.0.0.1 1"},
      {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "cluster-node-timeout", "1"},
      {"CONFIG", "SET", "cluster-announce-ip", "10.0.0.1"},
      {"CONFIG", "SET", "tls-port", "0"},
      {"CONFIG", "SET", "dbfilename", "x.rdb"},
      {"CONFIG", "SET", "logfile", "x.log"},
      {"CONFIG", "SET", "pidfile", "x.pid"},
      {"CONFIG", "SET", "unixsocket", "/tmp/x.sock"},
      {"CONFIG", "SET", "cluster-config-file", "x.conf"},
  };
  for (const std::vector<std::string>& set : sets) {
    const std::string context = absl::StrJoin(set, " ");
    const std::string name = set.size() > 4 ? set[4] : set[2];
    EXPECT_EQ(client_->Command(set),
              Reply::Error("ERR slotplane: CONFIG SET " + name +
                           " is refused through the proxy: it is a per-node setting; set it on "
                           "each cluster node"))
        << context;
  }
  EXPECT_EQ(OnEveryNode({"CONFIG", "GET", "port"}), ports_before);
  EXPECT_EQ(OnEveryNode({"CONFIG", "GET", "dir"}), dirs_before);
  EXPECT_EQ(OnEveryNode({"CONFIG", "GET", "maxmemory-policy"}), policy_before);
  // Redis's arity error still comes from the node, and other parameters still pass.
  EXPECT_TRUE(client_->Command({"CONFIG", "SET", "port"}).IsError());
  EXPECT_EQ(client_->Command({"CONFIG", "SET", "slowlog-max-len", "129"}), Reply::Status("OK"));
  for (const Reply& reply : OnEveryNode({"CONFIG", "GET", "slowlog-max-len"})) {
    EXPECT_EQ(reply, Reply::Array({Reply::String("slowlog-max-len"), Reply::String("129")}));
  }
  EXPECT_EQ(client_->Command({"CONFIG", "SET", "slowlog-max-len", "128"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"SET", "config-node:k", "v"}), Reply::Status("OK"));
}

TEST_F(ProxyConfigSecretsTest, ConfigGetInsideMultiIsRefused) {
  EXPECT_EQ(client_->Command({"MULTI"}), Reply::Status("OK"));
  EXPECT_TRUE(client_->Command({"CONFIG", "GET", "requirepass"}).IsError());
  const Reply exec = client_->Command({"EXEC"});
  EXPECT_TRUE(exec.IsError()) << exec;
  ExpectNoBytes(exec, kPassword, "EXEC");
}

}  // namespace
}  // namespace slotplane::integration
