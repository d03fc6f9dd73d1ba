// slotplane-proxy's `unixsocket` and `unixsocketperm`, as Redis's: clients on the unix socket get
// the same service as TCP clients (redis-cli -s and redis-py's unix_socket_path against the
// shared cluster), the file has the permission bits asked for, a stale file is replaced, CLIENT
// INFO shows `addr=PATH:0` as Redis does, and the file is gone once the proxy has stopped.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;  // each test starts its own, with its own socket path
  return options;
}());

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, which has python3-redis
constexpr absl::Duration kCommandTimeout = absl::Seconds(60);

class ProxyUnixSocketTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create("slotplane-unix"));
    socket_path_ = dir_->File("proxy.sock");
  }

  absl::StatusOr<std::unique_ptr<ProxyProcess>> StartProxy(const std::string& perm) {
    ProxyOptions options;
    options.seeds = cluster().addresses();
    options.threads = 2;  // both workers watch the one socket
    options.extra_args = {"--unixsocket", socket_path_};
    if (!perm.empty()) {
      options.extra_args.push_back("--unixsocketperm");
      options.extra_args.push_back(perm);
    }
    return ProxyProcess::Start(options);
  }

  // redis-cli -s PATH ARGS..., its output without the trailing newline.
  std::string Cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"redis-cli", "-s", socket_path_};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = RunCommand(argv, dir_->path(), kCommandTimeout);
    if (!result.ok()) return absl::StrCat("(", result.status().ToString(), ")");
    std::string out = result->output;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

  static bool Exists(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
  }

  std::optional<TempDir> dir_;  // made in SetUp (TempDir has no empty state)
  std::string socket_path_;
};

TEST_F(ProxyUnixSocketTest, ServesClientsLikeTcpAndRemovesTheFileAtExit) {
  // A stale file where the socket goes (a previous run's): unlinked before bind, as in Redis.
  { std::ofstream(socket_path_) << "stale"; }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy("700"));

  struct stat st;
  ASSERT_EQ(lstat(socket_path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  EXPECT_EQ(Cli({"PING"}), "PONG");
  EXPECT_EQ(Cli({"SET", "unix:{a}", "over-the-socket"}), "OK");
  EXPECT_EQ(Cli({"GET", "unix:{a}"}), "over-the-socket");
  // The same key through TCP: one service.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> tcp, proxy->Connect());
  EXPECT_EQ(tcp->Command({"GET", "unix:{a}"}), Reply::String("over-the-socket"));
  // Keys in many slots: every cluster node is reached from the socket.
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("unix:key:", i);
    ASSERT_EQ(Cli({"SET", key, absl::StrCat(i)}), "OK") << key;
    EXPECT_EQ(tcp->Command({"GET", key}), Reply::String(absl::StrCat(i))) << key;
  }

  // As Redis shows a unix-socket client: addr=PATH:0 laddr=PATH:0.
  const std::string info = Cli({"CLIENT", "INFO"});
  EXPECT_NE(info.find(absl::StrCat(" addr=", socket_path_, ":0 ")), std::string::npos) << info;
  EXPECT_NE(info.find(absl::StrCat(" laddr=", socket_path_, ":0 ")), std::string::npos) << info;

  ASSERT_OK(proxy->Stop());
  EXPECT_FALSE(Exists(socket_path_)) << "the socket file outlived the proxy";
}

TEST_F(ProxyUnixSocketTest, RedisPyUnixSocketPath) {
  ASSERT_OK_AND_ASSIGN(CommandResult probe,
                       RunCommand({kPython, "-c", "import redis"}, dir_->path(), kCommandTimeout));
  if (!probe.Succeeded()) GTEST_SKIP() << "python3-redis is not installed: " << probe.output;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(""));
  const std::string script = absl::StrCat(
      "import redis, sys\n"
      "r = redis.Redis(unix_socket_path=sys.argv[1])\n"
      "assert r.ping()\n"
      "r.set('unix:py', 'from-python')\n"
      "print('got', r.get('unix:py').decode())\n"
      "print('addr', r.client_info()['addr'])\n");
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({kPython, "-c", script, socket_path_},
                                                        dir_->path(), kCommandTimeout));
  ASSERT_TRUE(result.Succeeded()) << result.output;
  EXPECT_NE(result.output.find("got from-python"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(absl::StrCat("addr ", socket_path_, ":0")), std::string::npos)
      << result.output;

  // unixsocketperm 0 (the default): the bits the umask leaves, not forced open.
  struct stat st;
  ASSERT_EQ(lstat(socket_path_.c_str(), &st), 0);
  const mode_t mask = umask(0);
  umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0777u & ~mask);

  ASSERT_OK(proxy->Stop());
  EXPECT_FALSE(Exists(socket_path_));
}

TEST_F(ProxyUnixSocketTest, DrainClosesTheSocketButFinishesItsClients) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy("770"));
  // A client on the socket, blocked in BLPOP when SIGTERM comes: the drain lets it finish (its
  // reply arrives) while the file is removed at once, so no new client can connect.
  const std::string list = "unix:drain:{b}";
  EXPECT_EQ(Cli({"DEL", list}), "0");
  absl::StatusOr<CommandResult> blocked;
  std::thread waiter([&] {
    blocked = RunCommand({"redis-cli", "-s", socket_path_, "BLPOP", list, "3"}, dir_->path(),
                         kCommandTimeout);
  });
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> tcp, proxy->Connect());
  // Wait until the blocked client is registered on one of the workers.
  EXPECT_TRUE(WaitFor(
      [&] {
        Reply list_reply = tcp->Command({"CLIENT", "LIST"});
        return list_reply.str.find("cmd=blpop") != std::string::npos;
      },
      absl::Seconds(30), absl::Milliseconds(20)));
  kill(proxy->pid(), SIGTERM);
  EXPECT_TRUE(
      WaitFor([&] { return !Exists(socket_path_); }, absl::Seconds(30), absl::Milliseconds(10)))
      << "SIGTERM did not remove the socket file";
  waiter.join();
  ASSERT_OK(blocked.status());
  EXPECT_TRUE(blocked->Succeeded()) << blocked->output;
  ASSERT_OK(proxy->Stop());
}

TEST_F(ProxyUnixSocketTest, UnixClientsAreLocalForProxyShutdown) {
  // enable-proxy-shutdown local (the default) lets unix-socket clients stop the proxy, as Redis's
  // islocalClient counts them local; the exit removes the file.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> proxy, StartProxy(""));
  EXPECT_EQ(Cli({"PROXY", "SHUTDOWN", "ASAP"}), "OK");
  EXPECT_TRUE(WaitFor([&] { return !proxy->IsAlive(); }, absl::Seconds(30)));
  EXPECT_OK(proxy->Stop()) << "exit code 0";
  EXPECT_FALSE(Exists(socket_path_));
}

}  // namespace
}  // namespace slotplane::integration
