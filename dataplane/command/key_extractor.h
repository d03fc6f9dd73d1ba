#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

// Finds the argv positions of a command's keys from its key specs, the way Redis's
// getKeysUsingKeySpecs does (index/keyword begin search, range/keynum find), in the order the
// specs list them. `args` is the whole argv, command name included. Specs Redis marks NOT_KEY
// (shard channels of SPUBLISH, SSUBSCRIBE) count as keys: they route by slot too. Where the specs
// cannot say (SORT's STORE, MIGRATE's KEYS), a hand-written extractor does what Redis's getkeys
// procedure for that command does. Reuses `positions` capacity: no allocation in the steady
// state.
//
// Returns false, with `positions` empty, when the arguments make the keys unreadable (a key
// count that is not a number, negative, or larger than the arguments; a keyword with nothing
// after it): the caller then sends the command to any master so that Redis itself answers with
// its own precise error. `cmd` must be the resolved command: for container commands, the
// subcommand. The caller checks the arity first; any argv is safe, though.
bool ExtractKeyPositions(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                         std::vector<int>* positions);

// ExtractKeyPositions plus, in `access` (one entry per position), what ACL key patterns need of
// each key (KeySpecAcl bits), as Redis's getKeysFromCommandWithSpecs gives them: the key spec's
// flags, or what Redis's getkeys procedure says where the specs' flags depend on the arguments
// (SET with GET reads, without it only writes; BITFIELD with only GET reads) or where the
// fallback found the keys (SORT reads its key and writes STORE's, MIGRATE reads and writes).
bool ExtractKeysWithAccess(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                           std::vector<int>* positions, std::vector<uint8_t>* access);

// True when an XREAD/XREADGROUP call has a BLOCK option (it would then block its connection).
bool HasBlockOption(const std::vector<std::string_view>& args);

}  // namespace slotplane::dataplane
