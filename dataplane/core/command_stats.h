#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "dataplane/command/command_class.h"
#include "dataplane/command/command_table.h"
#include "dataplane/core/latency_histogram.h"
#include "dataplane/core/worker_stats.h"

namespace slotplane::dataplane {

// Nanoseconds on the monotonic clock (vDSO: no system call). Latencies are differences of two.
inline int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// What a command carries from dispatch to its reply, for CommandStats::Record: its top-level
// command (CommandTable::Index), its class and when the proxy started on it. Fits in a Request.
struct CommandStamp {
  int64_t start_ns = 0;
  uint16_t command = 0;
  CommandClass command_class = CommandClass::kOther;
  bool set = false;  // false: nothing to record (replies that answer no command: pushes, ...)
};

// One worker's per-command statistics: a latency histogram per command class and, per top-level
// command of the table, replies that were errors and replies that were not. Written by the worker
// thread only (Counters), summed over the workers at scrape time. The arrays are sized once at
// construction; recording allocates nothing and takes no lock.
class CommandStats {
 public:
  CommandStats() : ok_(CommandTable::Get().size()), errors_(CommandTable::Get().size()) {}
  CommandStats(const CommandStats&) = delete;
  CommandStats& operator=(const CommandStats&) = delete;

  static CommandStamp Stamp(const CommandInfo& cmd) {
    const CommandTable& table = CommandTable::Get();
    return {MonotonicNanos(), static_cast<uint16_t>(table.Index(FamilyOf(cmd))), ClassOf(cmd),
            true};
  }

  // The command of `stamp` was answered `now_ns`; `error`: the reply was an error.
  void Record(const CommandStamp& stamp, int64_t now_ns, bool error) {
    const int64_t elapsed = now_ns - stamp.start_ns;
    latency_[static_cast<size_t>(stamp.command_class)].Record(
        elapsed > 0 ? static_cast<uint64_t>(elapsed) : 0);
    // One counter or the other, never both: each stays monotonic for a reader at any moment.
    (error ? errors_ : ok_)[stamp.command].Add();
  }

  const LatencyHistogram& latency(CommandClass command_class) const {
    return latency_[static_cast<size_t>(command_class)];
  }
  uint64_t ok(size_t command) const { return ok_[command].Get(); }
  uint64_t errors(size_t command) const { return errors_[command].Get(); }
  uint64_t calls(size_t command) const { return ok(command) + errors(command); }

 private:
  std::array<LatencyHistogram, kCommandClassCount> latency_;
  std::vector<Counter> ok_;  // by CommandTable::Index: replies that were not errors
  std::vector<Counter> errors_;
};

}  // namespace slotplane::dataplane
