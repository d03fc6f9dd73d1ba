// ACL rules of client users, table-driven against a real redis-server: each case's rules are
// given to the proxy as `--user NAME on nopass RULES...` and to a standalone redis-server as
// `ACL SETUSER NAME reset on nopass RULES...`; the same commands must be allowed or denied by
// both, and a denial must carry Redis's NOPERM text exactly. Also: CLIENT INFO/LIST name the
// user, PROXY SHUTDOWN needs @admin, and a rejected rule is refused at start without its password.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/integration/child_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

using Command = std::vector<std::string>;

// One user: its rules and commands to run as it, in order, on a connection of its own.
struct AclCase {
  std::string rules;
  std::vector<Command> commands;
};

const std::vector<AclCase>& Cases() {
  static const auto* const cases = new std::vector<AclCase>{
      {"+@read ~app:*",
       {{"GET", "app:1"},
        {"GET", "other"},
        {"SET", "app:1", "x"},
        {"MGET", "app:1", "app:2"},
        {"MGET", "app:1", "other"},
        {"EXISTS", "app:1", "other"},
        {"CONFIG", "GET", "maxmemory"},
        {"PING"},
        {"AUTH", "nobody", "x"}}},
      {"+@all -@dangerous ~*",
       {{"SET", "k", "v"},
        {"FLUSHALL"},
        {"KEYS", "*"},
        {"CONFIG", "SET", "maxmemory", "0"},
        {"INFO", "keyspace"},
        {"DEL", "k"},
        {"SORT", "nolist"}}},
      {"+@all -config|set allkeys",
       {{"CONFIG", "SET", "maxmemory", "0"}, {"CONFIG", "GET", "maxmemory"}, {"GET", "x"}}},
      {"-@all +config|get +get allkeys",
       {{"CONFIG", "GET", "maxmemory"}, {"CONFIG", "RESETSTAT"}, {"GET", "x"}, {"SET", "x", "1"}}},
      {"+@all %R~r:* %W~w:*",
       {{"GET", "r:1"},
        {"SET", "r:1", "x"},
        {"SET", "w:1", "x"},
        {"GET", "w:1"},
        {"SET", "w:1", "x", "GET"},
        {"GETDEL", "w:1"},
        {"LPUSH", "w:l", "a"},
        {"LRANGE", "w:l", "0", "-1"},
        {"BITFIELD", "w:b", "GET", "u8", "0"},
        {"BITFIELD", "r:b", "GET", "u8", "0"},
        {"BITFIELD", "r:b", "SET", "u8", "0", "1"},
        {"MSET", "w:1", "a", "w:2", "b"},
        {"MSET", "w:1", "a", "r:1", "b"},
        {"MGET", "r:1", "r:2"},
        {"MGET", "r:1", "w:1"},
        {"DEL", "w:1", "w:2"},
        {"DEL", "w:1", "r:1"},
        {"EXISTS", "w:1", "r:1"},
        {"SORT", "r:l"},
        {"SORT", "r:l", "STORE", "w:s"},
        {"SORT", "r:l", "STORE", "r:s"},
        {"EVAL", "return 1", "1", "w:1"},
        {"EVAL", "return 1", "0"}}},
      {"+get +set +incr ~k*",
       {{"SET", "k1", "v"}, {"GET", "k1"}, {"GET", "x1"}, {"APPEND", "k1", "v"}, {"INCR", "q"}}},
      {"+@all allkeys resetchannels &news*",
       {{"PUBLISH", "news.a", "x"},
        {"PUBLISH", "sports", "x"},
        {"SPUBLISH", "news.b", "x"},
        {"SPUBLISH", "sports", "x"},
        {"SUBSCRIBE", "sports"},
        {"SUBSCRIBE", "news.1", "sports"},
        {"PSUBSCRIBE", "n*"},
        {"SSUBSCRIBE", "sports"}}},
      {"nocommands +select|0 +ping", {{"SELECT", "0"}, {"SELECT", "1"}, {"PING"}, {"ECHO", "x"}}},
      {"+@all -@all +ping allkeys", {{"PING"}, {"GET", "x"}, {"CLIENT", "ID"}}},
      {"+@connection -client|kill allkeys",
       {{"CLIENT", "KILL", "ID", "999999"}, {"CLIENT", "GETNAME"}, {"ECHO", "x"}, {"GET", "x"}}},
      {"+@all ~a*", {{"MULTI"}, {"SET", "a1", "1"}, {"SET", "b1", "1"}, {"EXEC"}, {"GET", "a1"}}},
      {"+@hash +@string %R~h:* %RW~s:*",
       {{"HSET", "h:1", "f", "v"},
        {"HGET", "h:1", "f"},
        {"SET", "s:1", "v"},
        {"GET", "s:1"},
        {"HSET", "s:h", "f", "v"},
        {"LPUSH", "s:l", "x"}}},
  };
  return *cases;
}

std::string UserName(size_t i) { return absl::StrCat("acl", i); }

// Every case's user, plus a default user that may run everything (admin work).
std::vector<std::string> ProxyUserArgs() {
  std::vector<std::string> args = {"--enable-cross-slot", "yes", "--user",
                                   "default on nopass allcommands allkeys allchannels"};
  for (size_t i = 0; i < Cases().size(); ++i) {
    args.push_back("--user");
    args.push_back(absl::StrCat(UserName(i), " on nopass ", Cases()[i].rules));
  }
  return args;
}

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.proxy.extra_args = ProxyUserArgs();
  return options;
}());

bool IsNoPerm(const Reply& reply) {
  return reply.type == Reply::Type::kError && absl::StartsWith(reply.str, "NOPERM");
}

class ProxyAclTest : public SharedClusterTest {
 protected:
  // A standalone redis-server on a free port; ChildProcess stops it whatever happens.
  void StartServer() {
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-acl"));
    dir_.emplace(std::move(dir));
    for (int attempt = 0; attempt < 5 && server_ == nullptr; ++attempt) {
      ASSERT_OK_AND_ASSIGN(server_port_, PickFreePort(/*with_cluster_bus=*/false));
      SpawnOptions spawn;
      spawn.argv = {"redis-server",
                    "--port",
                    absl::StrCat(server_port_),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    dir_->path()};
      spawn.output_path = dir_->File("redis.log");
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<ChildProcess> child, ChildProcess::Spawn(spawn));
      const bool up = WaitFor(
          [&] {
            auto c = TestClient::Connect("127.0.0.1", server_port_);
            return c.ok() && (*c)->Command({"PING"}) == Reply::Status("PONG");
          },
          absl::Seconds(10), absl::Milliseconds(20));
      if (up && child->IsRunning()) server_ = std::move(child);
    }
    ASSERT_NE(server_, nullptr) << ReadFileOrEmpty(dir_->File("redis.log"));
  }

  std::unique_ptr<TestClient> ConnectAs(uint16_t port, const std::string& user) {
    auto client = TestClient::Connect("127.0.0.1", port);
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return nullptr;
    EXPECT_EQ((*client)->Command({"AUTH", user, "any"}), Reply::Status("OK")) << user;
    return *std::move(client);
  }

  std::optional<TempDir> dir_;
  uint16_t server_port_ = 0;
  std::unique_ptr<ChildProcess> server_;
};

TEST_F(ProxyAclTest, SameAllowDenyAndErrorTextAsRedis) {
  StartServer();
  ASSERT_NE(server_, nullptr);
  auto admin = TestClient::Connect("127.0.0.1", server_port_);
  ASSERT_TRUE(admin.ok());
  auto proxy_admin = TestClient::Connect("127.0.0.1", proxy().port());
  ASSERT_TRUE(proxy_admin.ok());
  EXPECT_EQ((*admin)->Command({"FLUSHALL"}), Reply::Status("OK"));
  EXPECT_EQ((*proxy_admin)->Command({"FLUSHALL"}), Reply::Status("OK"));

  int denials = 0;
  for (size_t i = 0; i < Cases().size(); ++i) {
    const AclCase& c = Cases()[i];
    Command setuser = {"ACL", "SETUSER", UserName(i), "reset", "on", "nopass"};
    for (absl::string_view rule : absl::StrSplit(c.rules, ' ')) setuser.emplace_back(rule);
    ASSERT_EQ((*admin)->Command(setuser), Reply::Status("OK")) << c.rules;
    std::unique_ptr<TestClient> direct = ConnectAs(server_port_, UserName(i));
    std::unique_ptr<TestClient> proxied = ConnectAs(proxy().port(), UserName(i));
    ASSERT_NE(direct, nullptr);
    ASSERT_NE(proxied, nullptr);
    for (const Command& command : c.commands) {
      const Reply want = direct->Command(command);
      const Reply got = proxied->Command(command);
      const std::string what =
          absl::StrCat("rules '", c.rules, "', command ", absl::StrJoin(command, " "), ": redis ",
                       testing::PrintToString(want));
      if (IsNoPerm(want) || IsNoPerm(got)) {
        EXPECT_EQ(got, want) << what;
        ++denials;
      } else if (command[0] == "EXEC") {
        EXPECT_EQ(got, want) << what;  // EXECABORT after a denied queued command
      }
      // Allowed commands may answer differently through a cluster (CONFIG GET, CLIENT ID,
      // SUBSCRIBE counts): only the verdict is compared.
    }
  }
  EXPECT_GT(denials, 30) << "the table exercises denials";
}

TEST_F(ProxyAclTest, ClientInfoAndListNameTheUser) {
  std::unique_ptr<TestClient> client = ConnectAs(proxy().port(), UserName(1));
  ASSERT_NE(client, nullptr);
  const Reply info = client->Command({"CLIENT", "INFO"});
  EXPECT_TRUE(absl::StrContains(info.str, absl::StrCat(" user=", UserName(1), " "))) << info;
  auto other = TestClient::Connect("127.0.0.1", proxy().port());
  ASSERT_TRUE(other.ok());
  const Reply info_default = (*other)->Command({"CLIENT", "INFO"});
  EXPECT_TRUE(absl::StrContains(info_default.str, " user=default ")) << info_default;
  const Reply list = (*other)->Command({"CLIENT", "LIST"});  // @dangerous: not for acl1
  EXPECT_TRUE(absl::StrContains(list.str, absl::StrCat(" user=", UserName(1), " "))) << list;
  EXPECT_TRUE(absl::StrContains(list.str, " user=default ")) << list;
}

TEST_F(ProxyAclTest, ProxyShutdownNeedsAdmin) {
  // acl1 may run every command but the @dangerous ones, PROXY (@slow) included, yet not all of
  // @admin: PROXY SHUTDOWN is refused and the proxy keeps serving.
  std::unique_ptr<TestClient> client = ConnectAs(proxy().port(), UserName(1));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"PROXY", "PING"}), Reply::Status("PONG"));
  EXPECT_EQ(client->Command({"PROXY", "SHUTDOWN"}),
            Reply::Error("NOPERM this user has no permissions to run the 'proxy|shutdown' "
                         "command"));
  EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
}

TEST_F(ProxyAclTest, ProxyShutdownCanBeDisabled) {
  ProxyOptions options;
  options.seeds = cluster().addresses();
  options.extra_args = {"--enable-proxy-shutdown", "no"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> own, ProxyProcess::Start(options));
  auto client = own->Connect({});
  ASSERT_TRUE(client.ok());
  const Reply refused = (*client)->Command({"PROXY", "SHUTDOWN"});
  EXPECT_TRUE(absl::StartsWith(refused.str, "ERR PROXY SHUTDOWN not allowed.")) << refused;
  EXPECT_EQ((*client)->Command({"PING"}), Reply::Status("PONG"));
}

TEST_F(ProxyAclTest, BadRuleIsRefusedWithRedisWordingAndNoPassword) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-acl-bad"));
  const std::string proxy_bin = std::string(SLOTPLANE_BIN_DIR) + "/slotplane-proxy";
  struct Bad {
    std::string user;
    std::string expected;
  };
  const std::vector<Bad> bad = {
      {"eve on >hunter2 +nosuchcommand",
       "Error in ACL SETUSER modifier '+nosuchcommand': Unknown command or category name in ACL"},
      {"eve on >hunter2 +@nosuchcategory", "Unknown command or category name in ACL"},
      {"eve on >hunter2 %X~k", "Error in ACL SETUSER modifier '%X~k': Syntax error"},
      {"eve on >hunter2 allkeys ~k", "Adding a pattern after the * pattern"},
      {"eve on >hunter2 <hunter3", "Error in ACL SETUSER modifier"},
      {"eve on hunter2", "Error in ACL SETUSER modifier '<redacted>': Syntax error"},
  };
  for (const Bad& b : bad) {
    ASSERT_OK_AND_ASSIGN(CommandResult result,
                         RunCommand({proxy_bin, "--cluster", "127.0.0.1:1", "--user", b.user},
                                    dir.path(), absl::Seconds(30)));
    EXPECT_FALSE(result.Succeeded()) << b.user;
    EXPECT_TRUE(absl::StrContains(result.output, b.expected)) << b.user << "\n" << result.output;
    EXPECT_FALSE(absl::StrContains(result.output, "hunter2")) << result.output;
  }
}

}  // namespace
}  // namespace slotplane::integration
