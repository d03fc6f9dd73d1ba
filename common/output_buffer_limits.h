#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace slotplane {

// Redis's client-output-buffer-limit for one class of clients: a client whose unsent output
// reaches `hard_bytes`, or stays at or above `soft_bytes` for more than `soft_seconds`, is
// closed. 0 turns a limit off.
struct OutputBufferLimit {
  int64_t hard_bytes = 0;
  int64_t soft_bytes = 0;
  int64_t soft_seconds = 0;
};

// The classes slotplane has: normal clients and subscribed (pub/sub) clients.
//
// Defaults: pubsub is Redis's (32mb 8mb 60). Redis leaves normal clients unbounded (0 0 0);
// slotplane bounds them by default, because a proxy multiplexes many clients onto shared cluster
// connections and one client that pipelines large reads without reading would otherwise grow the
// whole process (2,000 pipelined GETs of a 1 MB value: 2 GB). 256mb is Redis's own hard limit
// for replica links, its largest default: it is far above any reply a normal command should
// produce, yet bounds one client to a fraction of a machine.
struct OutputBufferLimits {
  OutputBufferLimit normal{256LL << 20, 0, 0};
  OutputBufferLimit pubsub{32LL << 20, 8LL << 20, 60};
};

// The default value in Redis's CONFIG GET form.
extern const char kDefaultOutputBufferLimits[];

// Parses Redis's syntax, `<class> <hard> <soft> <soft seconds>` repeated (sizes as 256mb),
// class `normal` or `pubsub`, over `base`: the classes the text names replace theirs, the others
// keep theirs (as Redis's CONFIG SET and config file do). Errors name the option `name`.
absl::StatusOr<OutputBufferLimits> ParseOutputBufferLimits(std::string_view name,
                                                           std::string_view text,
                                                           const OutputBufferLimits& base);

// "normal 268435456 0 0 pubsub 33554432 8388608 60", as Redis's CONFIG GET shows the option.
std::string FormatOutputBufferLimits(const OutputBufferLimits& limits);

}  // namespace slotplane
