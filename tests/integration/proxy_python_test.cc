// An unmodified client library through slotplane-proxy: python3-redis (Debian's package) runs one
// session of mixed commands (python_session.py) against the proxy and against a standalone
// redis-server started here, and every result must be the same.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  // redis-py's mset/mget/delete name keys in any slots, as on a single server.
  options.proxy.extra_args = {"--enable-cross-slot", "yes"};
  return options;
}());

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, which has python3-redis
constexpr absl::Duration kSessionTimeout = absl::Seconds(120);

class ProxyPythonTest : public SharedClusterTest {};

TEST_F(ProxyPythonTest, RedisPySessionSameAsStandaloneServer) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-python"));
  ASSERT_OK_AND_ASSIGN(CommandResult probe,
                       RunCommand({kPython, "-c", "import redis"}, dir.path(), absl::Seconds(30)));
  if (!probe.Succeeded()) GTEST_SKIP() << "python3-redis is not installed: " << probe.output;

  // A standalone redis-server on a free port; ChildProcess stops it whatever happens.
  std::unique_ptr<ChildProcess> server;
  uint16_t port = 0;
  for (int attempt = 0; attempt < 5 && server == nullptr; ++attempt) {
    ASSERT_OK_AND_ASSIGN(port, PickFreePort(/*with_cluster_bus=*/false));
    SpawnOptions spawn;
    spawn.argv = {"redis-server", "--port", absl::StrCat(port), "--bind", "127.0.0.1",
                  "--save",       "",       "--appendonly",     "no",     "--dir",
                  dir.path()};
    spawn.output_path = dir.File("redis.log");
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ChildProcess> child, ChildProcess::Spawn(spawn));
    const bool up = WaitFor(
        [&] {
          absl::StatusOr<std::unique_ptr<TestClient>> c = TestClient::Connect("127.0.0.1", port);
          return c.ok() && (*c)->Command({"PING"}) == Reply::Status("PONG");
        },
        absl::Seconds(10), absl::Milliseconds(20));
    if (up && child->IsRunning()) server = std::move(child);
  }
  ASSERT_NE(server, nullptr) << ReadFileOrEmpty(dir.File("redis.log"));

  const std::string script =
      std::string(SLOTPLANE_SOURCE_DIR) + "/tests/integration/python_session.py";
  ASSERT_OK_AND_ASSIGN(
      CommandResult result,
      RunCommand({kPython, script, absl::StrCat(proxy().port()), absl::StrCat(port)}, dir.path(),
                 kSessionTimeout));
  EXPECT_TRUE(result.Succeeded()) << result.output;
  EXPECT_NE(result.output.find(" 0 differences"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace slotplane::integration
