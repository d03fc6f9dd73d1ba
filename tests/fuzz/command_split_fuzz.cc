// libFuzzer target for what the proxy does with a parsed command before it leaves: key
// extraction from the key specs (and the access each key needs), the cross-slot split of
// MGET/MSET/DEL/UNLINK/EXISTS/TOUCH, and the ACL check of a few users. The input is one argv,
// arguments separated by '\n'; a first argument that names no command is replaced by a command
// of the table chosen from the input, so that most inputs reach the key specs.
//
// Invariants: extraction never reads outside argv and both extractors agree; every key of a split
// lands in the part of its slot, the parts' slots are distinct, and each part's sub-command parses
// back to exactly its keys (and MSET's values) in the client's order; ACL verdicts agree with
// what the rules say: an unrestricted user is never denied, a user without commands is denied
// every command but the no-auth ones, a read-only user is denied exactly the commands with a key
// to write.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/acl_rules.h"
#include "common/slot.h"
#include "dataplane/command/acl_catalog.h"
#include "dataplane/command/command_table.h"
#include "dataplane/command/key_extractor.h"
#include "dataplane/command/user_acl.h"
#include "dataplane/resp/request_parser.h"
#include "dataplane/scatter/slot_grouping.h"

namespace {

using slotplane::AclPermissions;
using slotplane::ApplyAclPermissionRule;
using slotplane::KeyHashSlot;
using namespace slotplane::dataplane;  // NOLINT: the fuzzer exercises this namespace

void Check(bool condition, const char* invariant) {
  if (condition) return;
  std::fprintf(stderr, "command_split_fuzz: invariant violated: %s\n", invariant);
  std::abort();
}

UserAcl Compile(std::initializer_list<const char*> rules) {
  AclPermissions p;
  for (const char* rule : rules) {
    Check(ApplyAclPermissionRule(&p, rule, &CommandTableAclCatalog()).ok(), "fixed rules parse");
  }
  return UserAcl(p);
}

struct Users {
  UserAcl everything = Compile({"+@all", "~*", "&*"});
  UserAcl nothing = Compile({"nocommands", "allkeys", "allchannels"});
  UserAcl read_only = Compile({"+@all", "%R~*", "allchannels"});
  UserAcl mixed = Compile({"+@read", "+@write", "-@dangerous", "+config|get", "+select|0", "~a*",
                           "%R~{b}*", "%W~c?", "&n*"});
};

const Users& TheUsers() {
  static const Users* const users = new Users();
  return *users;
}

// The argv of the input; the command name replaced when it is not one.
std::vector<std::string> ArgvOf(const uint8_t* data, size_t size) {
  std::vector<std::string> argv(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      argv.emplace_back();
    } else {
      argv.back().push_back(static_cast<char>(data[i]));
    }
  }
  const CommandTable& table = CommandTable::Get();
  if (table.Find(argv[0]) == nullptr && table.Size() > 0) {
    const uint8_t pick = size > 0 ? data[0] : 0;
    const CommandInfo& chosen = table.ById(static_cast<uint16_t>(pick * 7 % table.Size()));
    const std::string_view name(chosen.name);
    const size_t bar = name.find('|');
    if (bar == std::string_view::npos) {
      argv[0] = std::string(name);
    } else {
      argv[0] = std::string(name.substr(0, bar));
      argv.insert(argv.begin() + 1, std::string(name.substr(bar + 1)));
    }
  }
  return argv;
}

size_t SplitStep(std::string_view name) {
  if (name == "mset") return 2;
  if (name == "mget" || name == "del" || name == "unlink" || name == "exists" || name == "touch") {
    return 1;
  }
  return 0;
}

// Splits a command whose keys were found and checks every part against the keys.
void CheckSplit(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                const std::vector<int>& positions) {
  const size_t step = SplitStep(cmd.name);
  if (step == 0 || positions.empty()) return;
  if (step == 2 && (args.size() - 1) % 2 != 0) return;  // the splitter answers wrong arity
  static SlotGrouping* const grouping = new SlotGrouping();
  std::vector<uint32_t> key_parts;
  grouping->Group(args, positions, &key_parts);
  Check(key_parts.size() == positions.size(), "every key has a part");
  size_t total = 0;
  for (size_t p = 0; p < grouping->parts(); ++p) {
    total += grouping->part_key_count(p);
    for (size_t q = 0; q < p; ++q) {
      Check(grouping->part_slot(p) != grouping->part_slot(q), "parts have distinct slots");
    }
  }
  Check(total == positions.size(), "parts hold every key once");
  for (size_t i = 0; i < positions.size(); ++i) {
    Check(grouping->part_slot(key_parts[i]) == KeyHashSlot(args[positions[i]]),
          "a key is in the part of its slot");
  }
  for (size_t p = 0; p < grouping->parts(); ++p) {
    WireBytes encoded;
    grouping->AppendPartCommand(p, args, positions, step, &encoded);
    RequestParser parser;
    Check(parser.Parse(encoded.data(), encoded.size()) == ParseStatus::kCommand,
          "a part's command parses");
    Check(parser.command_size() == encoded.size(), "a part's command is consumed exactly");
    std::vector<std::string_view> expected = {args[0]};
    for (size_t i = 0; i < positions.size(); ++i) {
      if (key_parts[i] != p) continue;
      for (size_t j = 0; j < step; ++j) expected.push_back(args[positions[i] + j]);
    }
    Check(parser.args() == expected, "a part carries its keys in the client's order");
  }
}

void CheckAcl(const CommandInfo& cmd, const std::vector<std::string_view>& args, bool keys_ok,
              const std::vector<int>& positions, const std::vector<uint8_t>& access) {
  const Users& users = TheUsers();
  AclScratch scratch;
  Check(users.everything.unrestricted(), "+@all ~* &* is unrestricted");
  Check(users.everything.Check(cmd, args, &scratch) == UserAcl::Verdict::kAllowed,
        "an unrestricted user is never denied");
  const UserAcl::Verdict none = users.nothing.Check(cmd, args, &scratch);
  Check((none == UserAcl::Verdict::kAllowed) == ((cmd.flags & kCmdNoAuth) != 0),
        "a user without commands runs only no-auth commands");
  bool writes = false;
  for (size_t i = 0; keys_ok && i < positions.size(); ++i) {
    writes = writes || ((access[i] & kKeyAclWrite) && !(access[i] & kKeyAclNotKey));
  }
  const UserAcl::Verdict read_only = users.read_only.Check(cmd, args, &scratch);
  Check(read_only == (writes ? UserAcl::Verdict::kDeniedKey : UserAcl::Verdict::kAllowed),
        "a read-only user is denied exactly the commands that write a key");
  users.mixed.Check(cmd, args, &scratch);  // must not crash; no simple oracle
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::vector<std::string> argv = ArgvOf(data, size);
  const std::vector<std::string_view> args(argv.begin(), argv.end());
  const CommandTable& table = CommandTable::Get();
  const CommandInfo* cmd = table.Find(args[0]);
  if (cmd == nullptr) return 0;
  if (cmd->num_subcommands > 0) {
    if (args.size() < 2) return 0;
    cmd = table.FindSubcommand(*cmd, args[1]);
    if (cmd == nullptr) return 0;
  }
  std::vector<int> positions;
  std::vector<int> positions_with_access;
  std::vector<uint8_t> access;
  const bool ok = ExtractKeyPositions(*cmd, args, &positions);
  const bool ok_with_access = ExtractKeysWithAccess(*cmd, args, &positions_with_access, &access);
  Check(ok == ok_with_access, "both extractors agree on success");
  Check(positions == positions_with_access, "both extractors find the same keys");
  Check(access.size() == positions_with_access.size(), "every key has its access");
  for (int position : positions) {
    Check(position >= 1 && static_cast<size_t>(position) < args.size(), "keys are in argv");
  }
  if (!ArityOk(*cmd, args.size())) return 0;  // the dispatcher stops here
  if (ok) CheckSplit(*cmd, args, positions);
  CheckAcl(*cmd, args, ok, positions_with_access, access);
  return 0;
}
