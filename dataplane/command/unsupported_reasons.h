#pragma once

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

// Why slotplane refuses a command whose route is RouteClass::kUnsupported: the text that follows
// "slotplane does not support '<command>': " in the error reply and in PROXY COMMAND
// UNSUPPORTED. A subcommand without a reason of its own takes its parent's.
const char* UnsupportedReason(const CommandInfo& cmd);

}  // namespace slotplane::dataplane
