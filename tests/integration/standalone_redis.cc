#include "tests/integration/standalone_redis.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "tests/integration/test_client.h"

namespace slotplane::integration {

absl::StatusOr<StandaloneRedis> StartStandaloneRedis(const TempDir& dir) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<uint16_t> port = PickFreePort(/*with_cluster_bus=*/false);
    if (!port.ok()) return port.status();
    SpawnOptions spawn;
    spawn.argv = {"redis-server", "--port", absl::StrCat(*port), "--bind", "127.0.0.1",
                  "--save",       "",       "--appendonly",      "no",     "--dir",
                  dir.path()};
    spawn.output_path = dir.File("redis.log");
    absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(spawn);
    if (!child.ok()) return child.status();
    const bool up = WaitFor(
        [&] {
          absl::StatusOr<std::unique_ptr<TestClient>> c = TestClient::Connect("127.0.0.1", *port);
          return c.ok() && (*c)->Command({"PING"}) == Reply::Status("PONG");
        },
        absl::Seconds(10), absl::Milliseconds(20));
    if (up && (*child)->IsRunning()) return StandaloneRedis{std::move(*child), *port};
  }
  return absl::UnavailableError("redis-server did not start: " +
                                ReadFileOrEmpty(dir.File("redis.log")));
}

}  // namespace slotplane::integration
