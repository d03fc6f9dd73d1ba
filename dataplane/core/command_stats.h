#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/command/command_class.h"
#include "dataplane/command/command_table.h"
#include "dataplane/core/latency_histogram.h"
#include "dataplane/core/worker_stats.h"

namespace slotplane::dataplane {

// What a command carries from dispatch to its reply, for CommandStats::Record: its top-level
// command (CommandTable::Index), its class and when the proxy started on it: the start of the
// event-loop pass that read it (EventLoop::now_ns), so latencies cost no clock read per request.
// Fits in a Request.
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
  CommandStats();
  CommandStats(const CommandStats&) = delete;
  CommandStats& operator=(const CommandStats&) = delete;

  // `cmd` (a command or subcommand of CommandTable::Get()) started at `now_ns`. A table lookup by
  // the command's id: its family and class are computed once, at construction.
  CommandStamp Stamp(const CommandInfo& cmd, int64_t now_ns) const {
    const Key key = keys_[cmd.id];
    return {now_ns, key.command, key.command_class, true};
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
  struct Key {
    uint16_t command;  // CommandTable::Index of its family
    CommandClass command_class;
  };

  std::vector<Key> keys_;  // by CommandInfo::id
  std::array<LatencyHistogram, kCommandClassCount> latency_;
  std::vector<Counter> ok_;  // by CommandTable::Index: replies that were not errors
  std::vector<Counter> errors_;
};

}  // namespace slotplane::dataplane
