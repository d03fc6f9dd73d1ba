#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

// CLIENT PAUSE / CLIENT UNPAUSE for the proxy's own clients, on every worker, as Redis 7.0 pauses
// its clients: until the pause ends (its timeout, or CLIENT UNPAUSE), ALL postpones every command
// (CLIENT UNPAUSE included, as in Redis) and WRITE postpones the commands that may write (the
// `write` flag, PUBLISH, SPUBLISH, PFCOUNT, WAIT, and EXEC of a transaction, whatever it queued).
// Under WRITE, commands inside MULTI are queued as usual. A postponed command runs when the pause
// is over, and the client's later commands wait behind it (SessionState::Postpone). The nodes are
// never paused: other proxies and direct clients go on.
//
// One per process (the proxy is one Redis); any thread. The commands of a client that is not
// paused pay one relaxed atomic load (active()).
class ClientPause {
 public:
  // A constant-initialized global: no guard, one load of an atomic per command.
  static ClientPause& Get() { return instance_; }

  // Pauses until `end_ms` (CLOCK_MONOTONIC milliseconds, as EventLoop::now_ms()); replaces the
  // pause in force, as Redis's CLIENT PAUSE does.
  void Pause(int64_t end_ms, bool writes_only);
  void Unpause() { end_ms_.store(0, std::memory_order_release); }

  // Whether a pause may be in force (it may have ended already).
  bool active() const { return end_ms_.load(std::memory_order_relaxed) != 0; }
  // Whether `cmd` (the resolved command or subcommand) waits at `now_ms`. `in_multi`: the client
  // is inside MULTI (its commands are queued, only EXEC may wait).
  // A pause found over is cleared, so that active() is false again.
  bool Postpones(const CommandInfo& cmd, bool in_multi, int64_t now_ms);

 private:
  constexpr ClientPause() = default;

  static ClientPause instance_;
  std::atomic<int64_t> end_ms_{0};  // 0: no pause
  std::atomic<bool> writes_only_{false};
};

}  // namespace slotplane::dataplane
