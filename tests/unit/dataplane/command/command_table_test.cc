#include "dataplane/command/command_table.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataplane/command/key_extractor.h"
#include "dataplane/command/routing.h"

namespace slotplane::dataplane {
namespace {

const CommandInfo& MustFind(std::string_view name) {
  const CommandInfo* cmd = CommandTable::Get().Find(name);
  EXPECT_NE(cmd, nullptr) << name;
  static const CommandInfo kMissing{};
  return cmd != nullptr ? *cmd : kMissing;
}

// "config|get" -> the subcommand; "get" -> the command.
const CommandInfo* FindAny(std::string_view name) {
  const size_t bar = name.find('|');
  const CommandInfo* cmd = CommandTable::Get().Find(name.substr(0, bar));
  if (cmd == nullptr || bar == std::string_view::npos) return cmd;
  return CommandTable::Get().FindSubcommand(*cmd, name.substr(bar + 1));
}

TEST(CommandTableTest, HoldsEveryRedisCommand) {
  const auto& all = CommandTable::Get().All();
  EXPECT_GE(all.size(), 200u);
  for (const char* name : {"get", "set", "xautoclaim", "lmpop", "function", "sintercard",
                           "zintercard", "spublish", "expiretime", "object", "proxy"}) {
    EXPECT_NE(CommandTable::Get().Find(name), nullptr) << name;
  }
  EXPECT_STREQ(CommandTable::RedisVersion(), "7.0.15");
}

TEST(CommandTableTest, AllIsSortedAndConsistent) {
  const auto& all = CommandTable::Get().All();
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(std::strcmp(all[i - 1]->name, all[i]->name), 0) << all[i]->name;
  }
  for (const CommandInfo* cmd : all) {
    EXPECT_EQ(CommandTable::Get().Find(cmd->name), cmd);
    EXPECT_NE(cmd->group, nullptr);
    EXPECT_EQ(cmd->route, RouteClassFor(cmd->name, cmd->num_key_specs > 0)) << cmd->name;
    for (int i = 0; i < cmd->num_subcommands; ++i) {
      const CommandInfo& sub = cmd->subcommands[i];
      const std::string prefix = std::string(cmd->name) + "|";
      EXPECT_EQ(std::string(sub.name).rfind(prefix, 0), 0u) << sub.name;
      EXPECT_EQ(CommandTable::Get().FindSubcommand(*cmd, sub.name + prefix.size()), &sub);
      EXPECT_EQ(sub.num_subcommands, 0);
    }
  }
}

TEST(CommandTableTest, FindIsCaseInsensitive) {
  const CommandInfo* get = CommandTable::Get().Find("get");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(CommandTable::Get().Find("GET"), get);
  EXPECT_EQ(CommandTable::Get().Find("gEt"), get);
  EXPECT_STREQ(CommandTable::Get().Find("ZRANGEBYSCORE")->name, "zrangebyscore");
}

TEST(CommandTableTest, UnknownNames) {
  EXPECT_EQ(CommandTable::Get().Find(""), nullptr);
  EXPECT_EQ(CommandTable::Get().Find("nosuchcommand"), nullptr);
  EXPECT_EQ(CommandTable::Get().Find(std::string(4096, 'a')), nullptr);
  EXPECT_EQ(CommandTable::Get().Find(std::string_view("get\0", 4)), nullptr);
  EXPECT_EQ(CommandTable::Get().Find("config|get"), nullptr);  // not a client-visible name
}

TEST(CommandTableTest, Arity) {
  EXPECT_EQ(MustFind("get").arity, 2);
  EXPECT_EQ(MustFind("set").arity, -3);
  EXPECT_EQ(MustFind("mget").arity, -2);
  EXPECT_EQ(MustFind("proxy").arity, -2);
  EXPECT_TRUE(ArityOk(MustFind("get"), 2));
  EXPECT_FALSE(ArityOk(MustFind("get"), 3));
  EXPECT_TRUE(ArityOk(MustFind("set"), 5));
  EXPECT_FALSE(ArityOk(MustFind("set"), 2));
}

TEST(CommandTableTest, LegacyKeyRange) {
  const CommandInfo& mset = MustFind("mset");
  EXPECT_EQ(mset.first_key, 1);
  EXPECT_EQ(mset.last_key, -1);
  EXPECT_EQ(mset.key_step, 2);
  EXPECT_EQ(MustFind("ping").first_key, 0);
}

TEST(CommandTableTest, Subcommands) {
  const CommandInfo& config = MustFind("config");
  const CommandInfo* get = CommandTable::Get().FindSubcommand(config, "get");
  ASSERT_NE(get, nullptr);
  EXPECT_STREQ(get->name, "config|get");
  EXPECT_EQ(get->arity, -3);
  EXPECT_EQ(CommandTable::Get().FindSubcommand(config, "GET"), get);

  const CommandInfo* encoding = CommandTable::Get().FindSubcommand(MustFind("OBJECT"), "Encoding");
  ASSERT_NE(encoding, nullptr);
  EXPECT_STREQ(encoding->name, "object|encoding");
  EXPECT_EQ(encoding->arity, 3);
  EXPECT_EQ(encoding->num_key_specs, 1);

  const CommandInfo* stream = CommandTable::Get().FindSubcommand(MustFind("xinfo"), "STREAM");
  ASSERT_NE(stream, nullptr);
  EXPECT_STREQ(stream->group, "stream");

  EXPECT_EQ(CommandTable::Get().FindSubcommand(config, "nosuch"), nullptr);
  EXPECT_EQ(CommandTable::Get().FindSubcommand(config, std::string(4096, 'x')), nullptr);
  EXPECT_EQ(CommandTable::Get().FindSubcommand(MustFind("get"), "get"), nullptr);
}

TEST(CommandTableTest, Flags) {
  EXPECT_EQ(MustFind("get").flags, kCmdReadonly | kCmdFast);
  EXPECT_EQ(MustFind("set").flags, kCmdWrite | kCmdDenyOom);
  for (const char* name : {"blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin",
                           "bzpopmax", "bzmpop", "xread", "xreadgroup"}) {
    EXPECT_TRUE(MustFind(name).flags & kCmdBlocking) << name;
  }
  EXPECT_FALSE(MustFind("wait").flags & kCmdBlocking);  // as Redis 7.0 reports it
  EXPECT_TRUE(MustFind("eval").flags & kCmdMovableKeys);
  EXPECT_TRUE(MustFind("eval").flags & kCmdNoscript);
  EXPECT_TRUE(MustFind("subscribe").flags & kCmdPubsub);
  EXPECT_TRUE(MustFind("auth").flags & kCmdNoAuth);
  EXPECT_TRUE(MustFind("multi").flags & kCmdNoscript);
  EXPECT_TRUE(MustFind("flushall").flags & kCmdWrite);
  const CommandInfo* config_set = FindAny("config|set");
  ASSERT_NE(config_set, nullptr);
  EXPECT_TRUE(config_set->flags & kCmdAdmin);
}

TEST(CommandTableTest, Groups) {
  EXPECT_STREQ(MustFind("get").group, "string");
  EXPECT_STREQ(MustFind("zadd").group, "sorted-set");
  EXPECT_STREQ(MustFind("multi").group, "transactions");
}

struct RouteCase {
  const char* name;
  RouteClass route;
};

TEST(CommandTableTest, RouteClasses) {
  const RouteCase cases[] = {
      {"get", RouteClass::kSlot},
      {"mset", RouteClass::kSlot},
      {"eval", RouteClass::kSlot},
      {"spublish", RouteClass::kSlot},
      {"xread", RouteClass::kSlot},
      {"object|encoding", RouteClass::kSlot},
      {"time", RouteClass::kAnyNode},
      {"publish", RouteClass::kPrivate},  // by channel slot; see session_state.h
      {"pubsub|numsub", RouteClass::kPrivate},
      {"command", RouteClass::kLocal},
      {"command|docs", RouteClass::kLocal},
      {"command|getkeysandflags", RouteClass::kAnyNode},
      {"client|setinfo", RouteClass::kLocal},
      {"config|get", RouteClass::kAnyNode},
      {"ping", RouteClass::kLocal},
      {"select", RouteClass::kLocal},
      {"hello", RouteClass::kLocal},
      {"proxy", RouteClass::kLocal},
      {"client|setname", RouteClass::kLocal},
      {"cluster|slots", RouteClass::kLocal},
      {"readonly", RouteClass::kLocal},
      {"dbsize", RouteClass::kAllMasters},
      {"keys", RouteClass::kAllMasters},
      {"scan", RouteClass::kAllMasters},
      {"flushall", RouteClass::kAllMasters},
      {"script|load", RouteClass::kAllMasters},
      {"function|load", RouteClass::kAllMasters},
      {"info", RouteClass::kAllMasters},
      {"config|set", RouteClass::kAllNodes},
      {"config|resetstat", RouteClass::kAllNodes},
      {"slowlog|get", RouteClass::kAllNodes},
      {"slowlog|len", RouteClass::kAllNodes},
      {"slowlog|reset", RouteClass::kAllNodes},
      {"latency|latest", RouteClass::kAllNodes},
      {"latency|history", RouteClass::kAllNodes},
      {"latency|reset", RouteClass::kAllNodes},
      {"slowlog|help", RouteClass::kAnyNode},
      {"latency|doctor", RouteClass::kAllNodes},
      {"latency|graph", RouteClass::kAllNodes},
      {"latency|histogram", RouteClass::kAllNodes},
      {"latency|help", RouteClass::kAnyNode},
      {"multi", RouteClass::kPrivate},
      {"watch", RouteClass::kPrivate},
      {"blpop", RouteClass::kPrivate},
      {"bzmpop", RouteClass::kPrivate},
      {"subscribe", RouteClass::kPrivate},
      {"ssubscribe", RouteClass::kPrivate},
      {"wait", RouteClass::kPrivate},
      {"monitor", RouteClass::kUnsupported},
      {"cluster|meet", RouteClass::kUnsupported},
      {"acl|setuser", RouteClass::kUnsupported},
      {"module|load", RouteClass::kUnsupported},
      {"replicaof", RouteClass::kUnsupported},
  };
  for (const RouteCase& c : cases) {
    const CommandInfo* cmd = FindAny(c.name);
    ASSERT_NE(cmd, nullptr) << c.name;
    EXPECT_EQ(cmd->route, c.route) << c.name << " is " << RouteClassName(cmd->route);
  }
}

// A misspelt override would silently route by the default.
TEST(CommandTableTest, FixedKeyFastPath) {
  const CommandTable& table = CommandTable::Get();
  EXPECT_EQ(table.Find("get")->fixed_key, 1);
  EXPECT_EQ(table.Find("set")->fixed_key, 1);
  EXPECT_EQ(table.Find("incr")->fixed_key, 1);
  EXPECT_EQ(table.Find("lpush")->fixed_key, 1);
  // Several keys, a key count, or a keyword: the key specs must be walked.
  EXPECT_EQ(table.Find("mget")->fixed_key, 0);
  EXPECT_EQ(table.Find("del")->fixed_key, 0);
  EXPECT_EQ(table.Find("eval")->fixed_key, 0);
  EXPECT_EQ(table.Find("xread")->fixed_key, 0);
  EXPECT_EQ(table.Find("ping")->fixed_key, 0);
  // Wherever the fast path applies, it agrees with the full key-spec walk.
  std::vector<int> positions;
  for (const CommandInfo* cmd : table.All()) {
    if (cmd->fixed_key == 0) continue;
    std::vector<std::string> argv(8, "arg");
    std::vector<std::string_view> args(argv.begin(), argv.end());
    ASSERT_TRUE(ExtractKeyPositions(*cmd, args, &positions)) << cmd->name;
    ASSERT_EQ(positions.size(), 1u) << cmd->name;
    EXPECT_EQ(positions[0], cmd->fixed_key) << cmd->name;
  }
}

TEST(RoutingTest, EveryOverrideNamesACommand) {
  for (std::string_view name : RouteOverrideNames()) {
    EXPECT_NE(FindAny(name), nullptr) << name;
  }
}

TEST(HandlerTest, EveryHandlerNamesACommand) {
  for (std::string_view name : HandlerNames()) {
    const CommandInfo* cmd = FindAny(name);
    ASSERT_NE(cmd, nullptr) << name;
    EXPECT_EQ(cmd->handler, HandlerFor(name)) << name;
    EXPECT_NE(cmd->handler, Handler::kNone) << name;
  }
}

TEST(HandlerTest, IdsAndParentsInTheTable) {
  const CommandTable& table = CommandTable::Get();
  const CommandInfo* client = table.Find("CLIENT");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->handler, Handler::kClient);
  EXPECT_EQ(client->parent, nullptr);
  const CommandInfo* list = table.FindSubcommand(*client, "list");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->handler, Handler::kClientList);
  EXPECT_EQ(list->parent, client);
  EXPECT_EQ(SubcommandName(*list), "list");
  EXPECT_EQ(table.Find("get")->handler, Handler::kNone);
  EXPECT_EQ(table.Find("xreadgroup")->handler, Handler::kXread);
  const CommandInfo* config = table.Find("config");
  EXPECT_EQ(config->handler, Handler::kNone);
  EXPECT_EQ(table.FindSubcommand(*config, "get")->handler, Handler::kConfigGet);
  EXPECT_EQ(table.FindSubcommand(*config, "set")->handler, Handler::kConfigSet);
  EXPECT_EQ(table.FindSubcommand(*config, "get")->parent, config);
  const CommandInfo* cluster = table.Find("cluster");
  EXPECT_EQ(cluster->handler, Handler::kCluster);
  // No inheritance: a subcommand without its own id has none.
  EXPECT_EQ(table.FindSubcommand(*cluster, "countkeysinslot")->handler, Handler::kNone);
}

TEST(RoutingTest, Defaults) {
  EXPECT_EQ(RouteClassFor("nosuch", true), RouteClass::kSlot);
  EXPECT_EQ(RouteClassFor("nosuch", false), RouteClass::kAnyNode);
  EXPECT_EQ(RouteClassFor("nosuch|sub", false), RouteClass::kAnyNode);
  EXPECT_EQ(RouteClassFor("client|anything", false), RouteClass::kLocal);  // parent's entry
  EXPECT_STREQ(RouteClassName(RouteClass::kAllMasters), "all-masters");
  EXPECT_STREQ(RouteClassName(RouteClass::kUnsupported), "unsupported");
}

// --- Against a live server --------------------------------------------------------------------

// A reply of the minimal RESP2 client below.
struct Reply {
  enum class Type { kStatus, kError, kInteger, kBulk, kNil, kArray };
  Type type = Type::kNil;
  std::string str;  // status, error or bulk
  long long integer = 0;
  std::vector<Reply> elements;
};

// A blocking RESP2 client: enough for COMMAND COUNT/INFO/GETKEYS and SHUTDOWN.
class RespClient {
 public:
  ~RespClient() {
    if (fd_ >= 0) close(fd_);
  }

  bool Connect(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  // False when the connection fails mid-way.
  bool Call(const std::vector<std::string>& args, Reply* reply) {
    std::string request = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& arg : args) {
      request += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
    }
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return false;
    }
    return Read(reply);
  }

 private:
  bool Fill() {
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  bool Line(std::string* line) {
    size_t end;
    while ((end = buffer_.find("\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    *line = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    return true;
  }

  bool Read(Reply* reply) {
    std::string line;
    if (!Line(&line) || line.empty()) return false;
    const std::string rest = line.substr(1);
    switch (line[0]) {
      case '+':
        reply->type = Reply::Type::kStatus;
        reply->str = rest;
        return true;
      case '-':
        reply->type = Reply::Type::kError;
        reply->str = rest;
        return true;
      case ':':
        reply->type = Reply::Type::kInteger;
        reply->integer = std::atoll(rest.c_str());
        return true;
      case '$':
        return ReadBulk(std::atoll(rest.c_str()), reply);
      case '*':
        return ReadArray(std::atoll(rest.c_str()), reply);
    }
    return false;
  }

  bool ReadBulk(long long size, Reply* reply) {
    reply->type = size < 0 ? Reply::Type::kNil : Reply::Type::kBulk;
    if (size < 0) return true;
    while (buffer_.size() < static_cast<size_t>(size) + 2) {
      if (!Fill()) return false;
    }
    reply->str = buffer_.substr(0, size);
    buffer_.erase(0, size + 2);
    return true;
  }

  bool ReadArray(long long size, Reply* reply) {
    reply->type = size < 0 ? Reply::Type::kNil : Reply::Type::kArray;
    for (long long i = 0; i < size; ++i) {
      reply->elements.emplace_back();
      if (!Read(&reply->elements.back())) return false;
    }
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

bool OnPath(const char* binary) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "";
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    const std::string dir(rest.substr(0, colon));
    if (access((dir + "/" + binary).c_str(), X_OK) == 0) return true;
    rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
  }
  return false;
}

// A redis-server on 127.0.0.1, a port in 32000-32999, no persistence, in a temporary directory.
// Stopped by the destructor; the kernel kills it too if this test process dies first.
class RedisServer {
 public:
  ~RedisServer() { Stop(); }

  // Empty on success, else why it failed.
  std::string Start() {
    if (!OnPath("redis-server")) {
      return "redis-server is not on PATH: install Redis 7.0 to run the command table tests";
    }
    char dir_template[] = "/tmp/slotplane-cmdtest-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return "mkdtemp failed";
    dir_ = dir_template;
    const int base = 32000 + static_cast<int>(getpid() % 1000);
    for (int attempt = 0; attempt < 20; ++attempt) {
      port_ = 32000 + (base - 32000 + attempt * 37) % 1000;
      if (PortFree() && Spawn() && WaitReady()) return "";
      Stop();
    }
    return "could not start redis-server on a port in 32000-32999";
  }

  int port() const { return port_; }

  void Stop() {
    if (pid_ > 0) {
      // SHUTDOWN only a server known to be ours: another one may hold the port.
      RespClient client;
      Reply reply;
      if (ours_ && client.Connect(port_)) client.Call({"SHUTDOWN", "NOSAVE"}, &reply);
      if (!ours_) kill(pid_, SIGTERM);
      if (!WaitExit(std::chrono::seconds(5))) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
      pid_ = -1;
      ours_ = false;
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      dir_.clear();
    }
  }

 private:
  bool PortFree() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    return free;
  }

  bool Spawn() {
    const std::string port = std::to_string(port_);
    pid_ = fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", dir_.c_str(), "--daemonize", "no",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    return true;
  }

  bool WaitReady() {
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {  // exited: the port was taken
        pid_ = -1;
        return false;
      }
      RespClient client;
      Reply reply;
      if (client.Connect(port_) && client.Call({"INFO", "server"}, &reply)) {
        // Whoever answers must be the process we started.
        ours_ = reply.str.find("process_id:" + std::to_string(pid_) + "\r\n") != std::string::npos;
        return ours_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  bool WaitExit(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  pid_t pid_ = -1;
  bool ours_ = false;  // the server on port_ reported pid_ as its process id
  int port_ = 0;
  std::string dir_;
};

class LiveServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new RedisServer();
    start_error_ = server_->Start();
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(start_error_, "");
    ASSERT_TRUE(client_.Connect(server_->port()));
  }

  Reply Call(const std::vector<std::string>& args) {
    Reply reply;
    EXPECT_TRUE(client_.Call(args, &reply));
    return reply;
  }

  static RedisServer* server_;
  static std::string start_error_;
  RespClient client_;
};

RedisServer* LiveServerTest::server_ = nullptr;
std::string LiveServerTest::start_error_;

TEST_F(LiveServerTest, CommandCountMatches) {
  const Reply count = Call({"COMMAND", "COUNT"});
  ASSERT_EQ(count.type, Reply::Type::kInteger);
  // The table has slotplane's PROXY on top of Redis's commands.
  EXPECT_EQ(static_cast<size_t>(count.integer), CommandTable::Get().All().size() - 1)
      << "the live server may not be the version the table was generated from ("
      << CommandTable::RedisVersion() << "); rerun scripts/gen_command_table.py";
}

// Arity and legacy key range of every command and subcommand, as COMMAND INFO reports them.
TEST_F(LiveServerTest, ArityAndLegacyRangeMatch) {
  for (const CommandInfo* top : CommandTable::Get().All()) {
    if (std::strcmp(top->name, "proxy") == 0) continue;
    std::vector<const CommandInfo*> commands = {top};
    for (int i = 0; i < top->num_subcommands; ++i) commands.push_back(&top->subcommands[i]);
    for (const CommandInfo* cmd : commands) {
      const Reply info = Call({"COMMAND", "INFO", cmd->name});
      ASSERT_EQ(info.type, Reply::Type::kArray);
      ASSERT_EQ(info.elements.size(), 1u);
      const Reply& entry = info.elements[0];
      ASSERT_EQ(entry.type, Reply::Type::kArray) << cmd->name << " unknown to the server";
      ASSERT_GE(entry.elements.size(), 6u);
      EXPECT_EQ(entry.elements[1].integer, cmd->arity) << cmd->name;
      EXPECT_EQ(entry.elements[3].integer, cmd->first_key) << cmd->name;
      EXPECT_EQ(entry.elements[4].integer, cmd->last_key) << cmd->name;
      EXPECT_EQ(entry.elements[5].integer, cmd->key_step) << cmd->name;
    }
  }
}

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

// Argument lists whose keys the server and ExtractKeyPositions must agree on. Keys have unique
// names so that positions can be compared through the names COMMAND GETKEYS returns.
constexpr const char* kGetKeysSamples[] = {
    "get k1",
    "set k1 v EX 10",
    "mget k1 k2 k3",
    "mset k1 v1 k2 v2",
    "msetnx k1 v1 k2 v2",
    "del k1 k2 k3",
    "exists k1 k2",
    "unlink k1 k2",
    "touch k1 k2",
    "rename k1 k2",
    "copy k1 k2 REPLACE",
    "lmove k1 k2 LEFT RIGHT",
    "blmove k1 k2 LEFT RIGHT 0",
    "rpoplpush k1 k2",
    "brpoplpush k1 k2 0",
    "blpop k1 k2 0",
    "brpop k1 k2 k3 0",
    "bzpopmin k1 k2 0",
    "lmpop 2 k1 k2 LEFT",
    "lmpop 3 k1 k2 left",
    "blmpop 0 2 k1 k2 LEFT COUNT 2",
    "zmpop 2 k1 k2 MIN",
    "bzmpop 0 1 k1 MAX",
    "sintercard 2 k1 k2 LIMIT 1",
    "zunionstore k1 2 k2 k3 WEIGHTS 1 2",
    "zinterstore k1 2 k2 k3",
    "zdiffstore k1 2 k2 k3",
    "zunion 2 k1 k2 WITHSCORES",
    "zinter 2 k1 k2",
    "zdiff 2 k1 k2",
    "zintercard 2 k1 k2",
    "zrangestore k1 k2 0 -1",
    "eval script 2 k1 k2 arg",
    "eval script 0",
    "evalsha 0123456789012345678901234567890123456789 1 k1 arg",
    "eval_ro script 1 k1",
    "fcall f 2 k1 k2 arg",
    "fcall_ro f 1 k1",
    "xread COUNT 1 STREAMS k1 k2 0 0",
    "xread BLOCK 0 STREAMS k1 $",
    "xreadgroup GROUP g c COUNT 1 STREAMS k1 k2 > >",
    "sort k1",
    "sort k1 STORE k2",
    "sort k1 BY w LIMIT 0 1 GET x STORE k2",
    "sort_ro k1 BY w",
    "migrate host 1 k1 0 5000",
    "migrate host 1 '' 0 5000 KEYS k1 k2",
    "migrate host 1 '' 0 5000 COPY AUTH pw KEYS k1",
    "georadius k1 1 2 3 m STORE k2",
    "georadius k1 1 2 3 m STOREDIST k2",
    "georadiusbymember k1 m 3 m STORE k2",
    "geosearchstore k1 k2 FROMMEMBER m BYBOX 1 1 m",
    "object encoding k1",
    "object freq k1",
    "memory usage k1",
    "xgroup create k1 g $ MKSTREAM",
    "xgroup setid k1 g $",
    "xinfo stream k1",
    "xinfo groups k1",
    "bitop AND k1 k2 k3",
    "pfcount k1 k2",
    "pfmerge k1 k2 k3",
    "smove k1 k2 m",
    "sdiffstore k1 k2 k3",
    "lcs k1 k2",
    "xadd k1 * f v",
    "watch k1 k2",
    "restore k1 0 payload",
};

TEST_F(LiveServerTest, GetKeysAgreesWithKeySpecs) {
  std::vector<int> positions;
  for (const char* line : kGetKeysSamples) {
    const std::vector<std::string> argv = Split(line);
    const std::vector<std::string_view> args(argv.begin(), argv.end());
    const CommandInfo* cmd = CommandTable::Get().Find(args[0]);
    ASSERT_NE(cmd, nullptr) << line;
    if (cmd->num_subcommands > 0) cmd = CommandTable::Get().FindSubcommand(*cmd, args[1]);
    ASSERT_NE(cmd, nullptr) << line;
    ASSERT_TRUE(ExtractKeyPositions(*cmd, args, &positions)) << line;
    std::vector<std::string> ours;
    for (int pos : positions) ours.push_back(argv[pos]);

    std::vector<std::string> request = {"COMMAND", "GETKEYS"};
    request.insert(request.end(), argv.begin(), argv.end());
    const Reply reply = Call(request);
    std::vector<std::string> theirs;
    if (reply.type == Reply::Type::kArray) {
      for (const Reply& key : reply.elements) theirs.push_back(key.str);
    } else {
      ADD_FAILURE() << line << ": " << reply.str;
    }
    EXPECT_EQ(ours, theirs) << line;
  }
}

// Keyless commands: the server has no keys to report, neither do we.
TEST_F(LiveServerTest, KeylessAgree) {
  std::vector<int> positions;
  for (const char* line : {"info server", "config get maxmemory", "publish ch msg", "keys *"}) {
    const std::vector<std::string> argv = Split(line);
    const std::vector<std::string_view> args(argv.begin(), argv.end());
    const CommandInfo* cmd = CommandTable::Get().Find(args[0]);
    ASSERT_NE(cmd, nullptr) << line;
    if (cmd->num_subcommands > 0) cmd = CommandTable::Get().FindSubcommand(*cmd, args[1]);
    ASSERT_NE(cmd, nullptr) << line;
    ASSERT_TRUE(ExtractKeyPositions(*cmd, args, &positions)) << line;
    EXPECT_TRUE(positions.empty()) << line;

    std::vector<std::string> request = {"COMMAND", "GETKEYS"};
    request.insert(request.end(), argv.begin(), argv.end());
    const Reply reply = Call(request);
    EXPECT_EQ(reply.type, Reply::Type::kError) << line;
    EXPECT_NE(reply.str.find("no key arguments"), std::string::npos) << reply.str;
  }
}

// ---------------------------------------------------------------------------------------------
// Lookup: every name of the table in random case, and names that are not commands (near misses,
// wrong lengths, non-letters, bytes above 0x7f). Find() indexes names by length and first letter.

// `name` with each ASCII letter upper-cased or not at random.
std::string RandomCase(std::string_view name, std::mt19937* random) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z' && (*random)() % 2 == 0) c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string Upper(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

TEST(CommandLookupTest, EveryCommandInAnyCase) {
  const CommandTable& table = CommandTable::Get();
  std::mt19937 random(7);
  for (const CommandInfo* cmd : table.All()) {
    EXPECT_EQ(table.Find(cmd->name), cmd) << cmd->name;
    EXPECT_EQ(table.Find(Upper(cmd->name)), cmd) << cmd->name;
    for (int round = 0; round < 8; ++round) {
      const std::string name = RandomCase(cmd->name, &random);
      EXPECT_EQ(table.Find(name), cmd) << name;
    }
  }
}

TEST(CommandLookupTest, EverySubcommandInAnyCase) {
  const CommandTable& table = CommandTable::Get();
  std::mt19937 random(8);
  size_t checked = 0;
  for (const CommandInfo* cmd : table.All()) {
    for (int i = 0; i < cmd->num_subcommands; ++i) {
      const CommandInfo& sub = cmd->subcommands[i];
      const std::string_view name = SubcommandName(sub);
      EXPECT_EQ(table.FindSubcommand(*cmd, name), &sub) << sub.name;
      EXPECT_EQ(table.FindSubcommand(*cmd, Upper(name)), &sub) << sub.name;
      EXPECT_EQ(table.FindSubcommand(*cmd, RandomCase(name, &random)), &sub) << sub.name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
  // slotplane's own subcommand, outside the generated list of its parent.
  const CommandInfo* client = table.Find("client");
  ASSERT_NE(client, nullptr);
  const CommandInfo* setinfo = table.FindSubcommand(*client, "SetInfo");
  ASSERT_NE(setinfo, nullptr);
  EXPECT_STREQ(setinfo->name, "client|setinfo");
  EXPECT_EQ(setinfo->parent, client);
  EXPECT_EQ(table.FindSubcommand(*table.Find("config"), "setinfo"), nullptr);
}

// Every name of the table with one byte changed, one byte more or one less: either another
// command of the table (then Find returns exactly that one) or nothing.
TEST(CommandLookupTest, NearMissesAreNotCommands) {
  const CommandTable& table = CommandTable::Get();
  std::vector<std::string> names;
  std::map<std::string, const CommandInfo*> by_upper_name;
  for (const CommandInfo* cmd : table.All()) {
    names.push_back(cmd->name);
    by_upper_name[Upper(cmd->name)] = cmd;
  }
  auto expected = [&](const std::string& name) -> const CommandInfo* {
    auto it = by_upper_name.find(Upper(name));
    return it == by_upper_name.end() ? nullptr : it->second;
  };
  const std::string replacements("aZ_-|09 \0\x7f\xc1\xe7", 12);
  for (const std::string& name : names) {
    for (size_t i = 0; i < name.size(); ++i) {
      for (char c : replacements) {
        std::string changed = name;
        changed[i] = c;
        EXPECT_EQ(table.Find(changed), expected(changed)) << changed;
      }
      std::string shorter = name;
      shorter.erase(i, 1);
      EXPECT_EQ(table.Find(shorter), expected(shorter)) << shorter;
    }
    EXPECT_EQ(table.Find(name + "s"), expected(name + "s")) << name;
    EXPECT_EQ(table.Find(name + std::string(1, '\0')), nullptr) << name;
  }
}

TEST(CommandLookupTest, NonCommands) {
  const CommandTable& table = CommandTable::Get();
  for (std::string_view name :
       {std::string_view(""), std::string_view("a"), std::string_view("GETT"),
        std::string_view("xyzzy"), std::string_view("get "), std::string_view(" get"),
        std::string_view("config|get"), std::string_view("CONFIG GET"), std::string_view("_get"),
        std::string_view("\xc7\xc5\xd4"), std::string_view("G\0T", 3),
        std::string_view("zrangebyscorezrangebyscorezrangebyscore")}) {
    EXPECT_EQ(table.Find(name), nullptr) << name;
  }
  // Bytes one bit (0x20) away from a letter: '@' and '`' around 'A' and 'a', '4' from 0x14.
  EXPECT_EQ(table.Find("@ET"), nullptr);
  EXPECT_EQ(table.Find("`ET"), nullptr);
  EXPECT_EQ(table.Find("GE\x14"), nullptr);
  const CommandInfo* config = table.Find("config");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(table.FindSubcommand(*config, ""), nullptr);
  EXPECT_EQ(table.FindSubcommand(*config, "ge"), nullptr);
  EXPECT_EQ(table.FindSubcommand(*config, "gett"), nullptr);
  EXPECT_EQ(table.FindSubcommand(*config, std::string_view("get\0", 4)), nullptr);
  EXPECT_EQ(table.FindSubcommand(*config, std::string_view("ge\0", 3)), nullptr);
  EXPECT_EQ(table.FindSubcommand(*table.Find("get"), "get"), nullptr);  // not a container
}

}  // namespace
}  // namespace slotplane::dataplane
