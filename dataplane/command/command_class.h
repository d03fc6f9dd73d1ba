#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

// The bounded label set of slotplane_proxy_command_duration_seconds: what kind of work a command
// makes for the proxy, from its command-table entry. Subcommands take their own entry's class.
enum class CommandClass : uint8_t {
  kRead,         // single-slot read-only command (GET, HGETALL, ZRANGE, ...)
  kWrite,        // single-slot write (SET, INCR, HSET, ...)
  kMultiKey,     // may name several keys (MGET, MSET, DEL, EVAL, ...): same slot or split
  kFanOut,       // runs on every master or node and is reduced (DBSIZE, KEYS, CONFIG SET, ...)
  kBlocking,     // may block (BLPOP, XREAD, WAIT, ...): a private connection
  kPubSub,       // SUBSCRIBE, PUBLISH, PUBSUB, ...
  kTransaction,  // MULTI, EXEC, DISCARD, WATCH, UNWATCH
  kLocal,        // answered by the proxy itself (PING, CLIENT, PROXY, CLUSTER SLOTS, ...)
  kOther,        // refused as unsupported
  kCount,
};
inline constexpr size_t kCommandClassCount = static_cast<size_t>(CommandClass::kCount);

// Lower-case label value: "read", "write", "multi_key", "fan_out", "blocking", "pubsub",
// "transaction", "local", "other".
const char* CommandClassName(CommandClass command_class);

// The class of `cmd` (a command or a subcommand), from its flags and route. CommandStats computes
// it once per command at start-up, not per request.
CommandClass ClassOf(const CommandInfo& cmd);

}  // namespace slotplane::dataplane
