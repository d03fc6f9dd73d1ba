#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {

// A standalone (not cluster-mode) redis-server on a free loopback port, for Redis's own bytes in
// tests that compare the proxy with it; stopped whatever happens (ChildProcess).
struct StandaloneRedis {
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;
};

// Starts one with no persistence, its files in `dir`; ready (answers PING) when it returns. Tries
// another port when the picked one was taken meanwhile.
absl::StatusOr<StandaloneRedis> StartStandaloneRedis(const TempDir& dir);

}  // namespace slotplane::integration
