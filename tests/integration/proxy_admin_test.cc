// The PROXY command and client authentication of a standalone proxy: every subcommand in many
// orders never crashes the proxy (redis-cluster-proxy died on CLUSTER UPDATE then CLUSTER INFO),
// CONFIG GET/SET act on every worker, and AUTH/HELLO/NOAUTH answer as Redis does with
// `requirepass` and `user`.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

// Every PROXY subcommand, with good and bad arguments, except SHUTDOWN (tested last) and the
// ones that would lock other clients out (requirepass).
std::vector<Command> AllProxySubcommands() {
  return {
      {"PROXY", "PING"},
      {"PROXY", "PING", "extra"},
      {"PROXY", "HELP"},
      {"PROXY", "INFO"},
      {"PROXY", "INFO", "proxy"},
      {"PROXY", "INFO", "clients"},
      {"PROXY", "INFO", "cluster"},
      {"PROXY", "INFO", "stats"},
      {"PROXY", "INFO", "errorstats"},
      {"PROXY", "INFO", "fleet"},
      {"PROXY", "INFO", "nosuchsection"},
      {"PROXY", "INFO", "a", "b"},
      {"PROXY", "CONFIG"},
      {"PROXY", "CONFIG", "GET"},
      {"PROXY", "CONFIG", "GET", "*"},
      {"PROXY", "CONFIG", "GET", "enable-cross-slot"},
      {"PROXY", "CONFIG", "GET", "*pool*", "auth*"},
      {"PROXY", "CONFIG", "GET", "["},
      {"PROXY", "CONFIG", "SET"},
      {"PROXY", "CONFIG", "SET", "max-redirects"},
      {"PROXY", "CONFIG", "SET", "max-redirects", "5"},
      {"PROXY", "CONFIG", "SET", "max-redirects", "nan"},
      {"PROXY", "CONFIG", "SET", "enable-cross-slot", "no", "tryagain-retries", "5"},
      {"PROXY", "CONFIG", "SET", "port", "1"},
      {"PROXY", "CONFIG", "SET", "user", "x on"},
      {"PROXY", "CONFIG", "SET", "nosuchoption", "1"},
      {"PROXY", "CONFIG", "REWRITE"},
      {"PROXY", "CLIENT"},
      {"PROXY", "CLIENT", "ID"},
      {"PROXY", "CLIENT", "THREAD"},
      {"PROXY", "CLIENT", "KILL"},
      {"PROXY", "CLUSTER"},
      {"PROXY", "CLUSTER", "INFO"},
      {"PROXY", "CLUSTER", "STATUS"},
      {"PROXY", "CLUSTER", "CONNECTION"},
      {"PROXY", "CLUSTER", "NODES"},
      {"PROXY", "CLUSTER", "UPDATE"},
      {"PROXY", "CLUSTER", "UPDATE", "now"},
      {"PROXY", "CLUSTER", "RESET"},
      {"PROXY", "COMMAND"},
      {"PROXY", "COMMAND", "UNSUPPORTED"},
      {"PROXY", "COMMAND", "CROSSSLOTS-UNSUPPORTED"},
      {"PROXY", "COMMAND", "BOGUS"},
      {"PROXY", "MULTIPLEXING", "STATUS"},
      {"PROXY", "FLEET"},
      {"PROXY", "FLEET", "extra"},
      {"PROXY", "LOG", "hello from the order test"},
      {"PROXY", "LOG", "warning", "a", "warning", "line"},
      {"PROXY", "LOG"},
      {"PROXY", "SHUTDOWN", "LATER"},
      {"PROXY", "DEBUG", "SEGFAULT"},
      {"PROXY", ""},
  };
}

class ProxyAdminTest : public SharedClusterTest {
 protected:
  std::unique_ptr<TestClient> Connect(const ProxyProcess& p, const ClientOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<TestClient>> client = p.Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // The proxy still serves: PING and a key round trip.
  void ExpectServing(const ProxyProcess& p, const ClientOptions& options = {}) {
    std::unique_ptr<TestClient> client = Connect(p, options);
    ASSERT_NE(client, nullptr);
    EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
    EXPECT_EQ(client->Command({"SET", "admin:probe", "v"}), Reply::Status("OK"));
    EXPECT_EQ(client->Command({"GET", "admin:probe"}), Reply::String("v"));
  }

  // A proxy of its own in front of the shared cluster, with extra options.
  std::unique_ptr<ProxyProcess> StartProxy(std::vector<std::string> extra_args) {
    ProxyOptions options;
    options.seeds = cluster().addresses();
    options.extra_args = std::move(extra_args);
    absl::StatusOr<std::unique_ptr<ProxyProcess>> p = ProxyProcess::Start(options);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *std::move(p) : nullptr;
  }
};

TEST_F(ProxyAdminTest, EverySubcommandInManyOrdersNeverCrashes) {
  const std::vector<Command> all = AllProxySubcommands();
  const pid_t pid = proxy().pid();
  std::unique_ptr<TestClient> client = Connect(proxy());
  ASSERT_NE(client, nullptr);
  // Every ordered pair, back to back on one connection (CLUSTER UPDATE then CLUSTER INFO was
  // redis-cluster-proxy's crash).
  for (const Command& first : all) {
    client->Append(first);
    for (const Command& second : all) client->Append(second);
    for (size_t i = 0; i <= all.size(); ++i) {
      const Reply reply = client->GetReply();
      ASSERT_NE(reply.type, Reply::Type::kTransportError)
          << "after " << Reply::String(absl::StrJoin(first, " ")).DebugString() << ": "
          << reply.DebugString();
    }
  }
  // Random orders, pipelined from several clients at once.
  std::mt19937 random(20240611);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(Connect(proxy()));
  for (int round = 0; round < 25; ++round) {
    for (auto& c : clients) {
      std::vector<Command> order = all;
      std::shuffle(order.begin(), order.end(), random);
      for (const Command& command : order) c->Append(command);
    }
    for (auto& c : clients) {
      for (size_t i = 0; i < all.size(); ++i) {
        ASSERT_NE(c->GetReply().type, Reply::Type::kTransportError) << "round " << round;
      }
    }
  }
  EXPECT_TRUE(proxy().IsAlive());
  EXPECT_EQ(proxy().pid(), pid);
  ExpectServing(proxy());
}

TEST_F(ProxyAdminTest, ClusterSubcommandsDescribeTheTopology) {
  std::unique_ptr<TestClient> client = Connect(proxy());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"PROXY", "CLUSTER", "UPDATE"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"PROXY", "CLUSTER", "STATUS"}), Reply::Status("ok"));
  EXPECT_EQ(client->Command({"PROXY", "CLUSTER", "CONNECTION"}), Reply::Status("shared"));
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "OFF"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"PROXY", "CLUSTER", "CONNECTION"}), Reply::Status("private"));
  const Reply info = client->Command({"PROXY", "CLUSTER", "INFO"});
  ASSERT_EQ(info.type, Reply::Type::kString) << info;
  EXPECT_EQ(ParseInfoText(info.str)["cluster_slots_covered"], "16384");
  const Reply nodes = client->Command({"PROXY", "CLUSTER", "NODES"});
  ASSERT_EQ(nodes.type, Reply::Type::kArray) << nodes;
  ASSERT_EQ(nodes.elements.size(), static_cast<size_t>(cluster().node_count()));
  std::set<std::string> addresses;
  int slots = 0;
  for (const Reply& node : nodes.elements) {
    ASSERT_EQ(node.elements.size(), 14u) << node;
    addresses.insert(node.elements[3].str);
    slots += static_cast<int>(node.elements[11].integer);
  }
  EXPECT_EQ(slots, 16384) << "masters own every slot";
  for (const NodeAddress& address : cluster().addresses()) {
    EXPECT_TRUE(addresses.count(address.ToString())) << address.ToString();
  }
}

TEST_F(ProxyAdminTest, ConfigGetPatternsAndStandaloneConfigSet) {
  std::unique_ptr<ProxyProcess> own = StartProxy({});
  ASSERT_NE(own, nullptr);
  std::unique_ptr<TestClient> client = Connect(*own);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "*cross*"}),
            Reply::Array({Reply::String("enable-cross-slot"), Reply::String("no")}));
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "nosuchoption"}), Reply::Array({}));
  const Reply both = client->Command({"PROXY", "CONFIG", "GET", "PORT", "max-redir*"});
  ASSERT_EQ(both.elements.size(), 4u) << both;
  EXPECT_EQ(both.elements[0], Reply::String("port"));
  EXPECT_EQ(both.elements[1], Reply::String(absl::StrCat(own->port())));
  EXPECT_EQ(both.elements[2], Reply::String("max-redirects"));

  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "SET", "enable-cross-slot", "yes"}),
            Reply::Status("OK"));
  // Every worker applied it before the OK: clients on either thread see it.
  std::set<long long> threads;
  for (int i = 0; i < 20 && threads.size() < 2; ++i) {
    std::unique_ptr<TestClient> other = Connect(*own);
    ASSERT_NE(other, nullptr);
    threads.insert(other->Command({"PROXY", "CLIENT", "THREAD"}).integer);
    EXPECT_EQ(other->Command({"PROXY", "CONFIG", "GET", "enable-cross-slot"}),
              Reply::Array({Reply::String("enable-cross-slot"), Reply::String("yes")}));
  }
  EXPECT_EQ(threads.size(), 2u);
  EXPECT_EQ(ParseInfoText(client->Command({"PROXY", "INFO", "fleet"}).str)["policy_version"], "1");

  const Reply per_process = client->Command({"PROXY", "CONFIG", "SET", "port", "1"});
  EXPECT_EQ(per_process, Reply::Error("ERR option 'port' is per proxy process and cannot be "
                                      "changed at runtime (restart the proxy with the new value)"));
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "SET", "nosuchoption", "1"}),
            Reply::Error("ERR Unknown option or number of arguments for CONFIG SET - "
                         "'nosuchoption'"));
  const Reply bad = client->Command({"PROXY", "CONFIG", "SET", "read-policy", "nearest"});
  EXPECT_TRUE(absl::StrContains(bad.str, "'read-policy'")) << bad;
  EXPECT_EQ(ParseInfoText(client->Command({"PROXY", "INFO", "fleet"}).str)["policy_version"], "1")
      << "a refused SET makes no version";
  ExpectServing(*own);
}

TEST_F(ProxyAdminTest, RequirepassAndUsersStandalone) {
  std::unique_ptr<ProxyProcess> own =
      StartProxy({"--requirepass", "main-pw", "--user", "alice on >alice-pw allcommands allkeys",
                  "--user", "bob off >bob-pw"});
  ASSERT_NE(own, nullptr);
  std::unique_ptr<TestClient> client = Connect(*own);
  ASSERT_NE(client, nullptr);
  const Reply noauth = Reply::Error("NOAUTH Authentication required.");
  const Reply wrongpass =
      Reply::Error("WRONGPASS invalid username-password pair or user is disabled.");
  EXPECT_EQ(client->Command({"PING"}), noauth);
  EXPECT_EQ(client->Command({"GET", "k"}), noauth);
  EXPECT_EQ(client->Command({"PROXY", "INFO"}), noauth);
  EXPECT_TRUE(absl::StartsWith(client->Command({"NOSUCHCOMMAND"}).str, "ERR unknown command"))
      << "as Redis: unknown commands are reported before NOAUTH";
  EXPECT_EQ(client->Command({"HELLO", "2"}).str.substr(0, 42),
            "NOAUTH HELLO must be called with the clien");
  EXPECT_EQ(client->Command({"AUTH", "wrong"}), wrongpass);
  EXPECT_EQ(client->Command({"AUTH", "bob", "bob-pw"}), wrongpass) << "bob is off";
  EXPECT_EQ(client->Command({"AUTH", "alice", "main-pw"}), wrongpass);
  EXPECT_EQ(client->Command({"AUTH", "a", "b", "c"}), Reply::Error("ERR syntax error"));
  EXPECT_EQ(client->Command({"GET", "k"}), noauth);
  EXPECT_EQ(client->Command({"AUTH", "main-pw"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"SET", "auth:k", "v"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"RESET"}), Reply::Status("RESET"));
  EXPECT_EQ(client->Command({"GET", "auth:k"}), noauth) << "RESET forgets the authentication";

  std::unique_ptr<TestClient> alice = Connect(*own);
  ASSERT_NE(alice, nullptr);
  const Reply hello = alice->Command({"HELLO", "2", "AUTH", "alice", "alice-pw"});
  ASSERT_EQ(hello.type, Reply::Type::kArray) << hello;
  EXPECT_EQ(alice->Command({"GET", "auth:k"}), Reply::String("v"));
  std::unique_ptr<TestClient> wrong = Connect(*own);
  EXPECT_EQ(wrong->Command({"HELLO", "2", "AUTH", "alice", "nope"}), wrongpass);
  EXPECT_EQ(wrong->Command({"QUIT"}), Reply::Status("OK")) << "QUIT needs no AUTH";

  // A new password applies to new connections; authenticated ones keep going (as in Redis).
  ClientOptions with_password;
  with_password.password = "main-pw";
  std::unique_ptr<TestClient> admin = Connect(*own, with_password);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->Command({"PROXY", "CONFIG", "SET", "requirepass", "new-pw"}),
            Reply::Status("OK"));
  EXPECT_EQ(admin->Command({"PROXY", "CONFIG", "GET", "requirepass"}),
            Reply::Array({Reply::String("requirepass"), Reply::String("(set)")}));
  EXPECT_EQ(alice->Command({"GET", "auth:k"}), Reply::String("v"));
  std::unique_ptr<TestClient> late = Connect(*own);
  EXPECT_EQ(late->Command({"AUTH", "main-pw"}), wrongpass);
  EXPECT_EQ(late->Command({"AUTH", "new-pw"}), Reply::Status("OK"));
  with_password.password = "new-pw";
  ExpectServing(*own, with_password);
}

TEST_F(ProxyAdminTest, WithoutPasswordsAuthAnswersAsRedis) {
  std::unique_ptr<TestClient> client = Connect(proxy());
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"AUTH", "pw"}),
            Reply::Error("ERR AUTH <password> called without any password configured for the "
                         "default user. Are you sure your configuration is correct?"));
  EXPECT_EQ(client->Command({"AUTH", "default", "anything"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"AUTH", "alice", "pw"}),
            Reply::Error("WRONGPASS invalid username-password pair or user is disabled."));
}

TEST_F(ProxyAdminTest, ShutdownStopsTheProxyCleanly) {
  std::unique_ptr<ProxyProcess> own = StartProxy({});
  ASSERT_NE(own, nullptr);
  std::unique_ptr<TestClient> client = Connect(*own);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"PROXY", "SHUTDOWN", "ASAP"}), Reply::Status("OK"));
  EXPECT_TRUE(WaitFor([&] { return !own->IsAlive(); }, absl::Seconds(15)));
  EXPECT_OK(own->Stop()) << "exit code 0";
}

}  // namespace
}  // namespace slotplane::integration
