#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

// How the proxy handles a command. The generated table gets a default from the command's keys
// (kSlot when it has key specs, kAnyNode otherwise); routing.cc overrides it by name.
enum class RouteClass : uint8_t {
  kSlot,         // route by the slot of its keys; all keys must share one slot (or be split)
  kAnyNode,      // keyless, harmless anywhere: send to any master (e.g. COMMAND DOCS, TIME)
  kLocal,        // answered by the proxy itself (PING, ECHO, QUIT, SELECT, HELLO, PROXY, ...)
  kAllMasters,   // fans out to every master and reduces (DBSIZE, KEYS, FLUSHALL, ...)
  kAllNodes,     // fans out to masters and replicas (CONFIG SET, CONFIG RESETSTAT)
  kPrivate,      // needs connection state: transactions, blocking, pub/sub
  kUnsupported,  // has no meaning through a proxy (MONITOR, SYNC, REPLICAOF, ...)
};

const char* RouteClassName(RouteClass route);

// The override for a lower-case command name ("get", "config|set"), or kSlot/kAnyNode default
// as described above when there is none. A subcommand without an override of its own takes its
// parent's ("client|list" is kLocal like "client"). `has_keys` is whether the command has key
// specs.
RouteClass RouteClassFor(const char* lower_name, bool has_keys);

// The names that have an override, in order. For tests (each must name a real command); not for
// the data path.
std::vector<std::string_view> RouteOverrideNames();

}  // namespace slotplane::dataplane
