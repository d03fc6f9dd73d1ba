#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

// Finds the argv positions of a command's keys from its key specs, the way Redis's
// getKeysUsingKeySpecs does (index/keyword begin search, range/keynum find). Reuses `positions`
// capacity: no allocation in the steady state.
//
// Returns false when the arguments make the keys unreadable (a key count that is not a number,
// negative, or larger than the arguments): the caller then sends the command to any master so
// that Redis itself answers with its own precise error. `cmd` must be the resolved command: for
// container commands, the subcommand.
bool ExtractKeyPositions(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                         std::vector<int>* positions);

}  // namespace slotplane::dataplane
