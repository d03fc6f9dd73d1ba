#pragma once

#include <string>
#include <string_view>

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

// PROXY COMMAND [UNSUPPORTED|CROSSSLOTS-UNSUPPORTED], as in redis-cluster-proxy: one row per
// command and subcommand, [name, arity, first key, last key, key step, handling], where handling
// is the RouteClassName() ("slot", "any-node", "local", "all-masters", "all-nodes", "private",
// "unsupported") or "split" for the multi-key commands split across slots. UNSUPPORTED rows carry
// a seventh element: the reason. CROSSSLOTS-UNSUPPORTED lists the multi-key commands whose keys
// must share one slot whatever enable-cross-slot says. `filter` is lower case ("" for all).
// False when the filter is unknown.
bool ProxyCommandTableReply(std::string_view filter, std::string* out);

// Whether a keyed command may name keys in several slots (several key specs, a key count, or a
// key range), which cross-slot splitting is about.
bool IsMultiKey(const CommandInfo& cmd);

}  // namespace slotplane::dataplane
