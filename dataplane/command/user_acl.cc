#include "dataplane/command/user_acl.h"

#include "common/glob.h"
#include "common/strings.h"
#include "dataplane/command/key_extractor.h"

namespace slotplane::dataplane {
namespace {

// The subcommands of each container, by id (slotplane's own CLIENT SETINFO included, which its
// parent's `subcommands` array does not list). Built once.
const std::vector<std::vector<uint16_t>>& ChildrenById() {
  static const auto* const children = [] {
    const CommandTable& table = CommandTable::Get();
    auto* out = new std::vector<std::vector<uint16_t>>(table.Size());
    for (size_t id = 0; id < table.Size(); ++id) {
      const CommandInfo& cmd = table.ById(static_cast<uint16_t>(id));
      if (cmd.parent != nullptr) (*out)[cmd.parent->id].push_back(cmd.id);
    }
    return out;
  }();
  return *children;
}

bool IsOneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (name == n) return true;
  }
  return false;
}

}  // namespace

UserAcl::UserAcl(const AclPermissions& permissions)
    : allowed_((CommandTable::Get().Size() + 63) / 64, 0),
      first_args_(CommandTable::Get().Size()),
      all_keys_(permissions.all_keys),
      keys_(permissions.keys),
      all_channels_(permissions.all_channels),
      channels_(permissions.channels),
      text_(AclPermissionText(permissions)) {
  const CommandTable& table = CommandTable::Get();
  for (const std::string& rule : permissions.commands) {
    const bool allow = rule[0] == '+';
    const std::string_view name = std::string_view(rule).substr(1);
    if (name == "@all") {
      for (size_t id = 0; id < table.Size(); ++id) SetCommand(table.ById(id), true);
    } else if (name[0] == '@') {
      SetCategory(AclCategoryBit(name.substr(1)), allow);
    } else if (size_t bar = name.find('|'); bar != std::string_view::npos) {
      const CommandInfo* cmd = table.Find(name.substr(0, bar));
      if (cmd == nullptr) continue;
      if (cmd->num_subcommands > 0) {
        const CommandInfo* sub = table.FindSubcommand(*cmd, name.substr(bar + 1));
        if (sub != nullptr) SetCommand(*sub, allow);
      } else if (allow) {
        first_args_[cmd->id].emplace_back(name.substr(bar + 1));  // `+select|0`
      }
    } else if (const CommandInfo* cmd = table.Find(name)) {
      SetCommand(*cmd, allow);
    }
  }
  bool all_commands = true;
  for (size_t id = 0; id < table.Size(); ++id) {
    all_commands = all_commands && (allowed_[id / 64] >> (id % 64) & 1);
  }
  unrestricted_ = all_commands && all_keys_ && all_channels_;
}

// Redis's ACLChangeSelectorPerm: the command, and all its subcommands, with its first-argument
// allowances forgotten.
void UserAcl::SetCommand(const CommandInfo& cmd, bool allow) {
  auto set = [this, allow](uint16_t id) {
    const uint64_t bit = uint64_t{1} << (id % 64);
    allowed_[id / 64] = allow ? (allowed_[id / 64] | bit) : (allowed_[id / 64] & ~bit);
  };
  first_args_[cmd.id].clear();
  set(cmd.id);
  for (uint16_t child : ChildrenById()[cmd.id]) set(child);
}

// Redis's ACLSetSelectorCommandBitsForCategory: every command of the category (with all its
// subcommands), then every subcommand of the category on its own.
void UserAcl::SetCategory(uint32_t category, bool allow) {
  if (category == 0) return;
  const CommandTable& table = CommandTable::Get();
  for (const CommandInfo* cmd : table.All()) {
    if (cmd->acl_categories & category) SetCommand(*cmd, allow);
    for (uint16_t child : ChildrenById()[cmd->id]) {
      const CommandInfo& sub = table.ById(child);
      if (sub.acl_categories & category) SetCommand(sub, allow);
    }
  }
}

bool UserAcl::AllowsCategory(uint32_t category) const {
  const CommandTable& table = CommandTable::Get();
  for (size_t id = 0; id < table.Size(); ++id) {
    if ((table.ById(id).acl_categories & category) && !(allowed_[id / 64] >> (id % 64) & 1)) {
      return false;
    }
  }
  return true;
}

UserAcl::Verdict UserAcl::Check(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                                AclScratch* scratch) const {
  if (!CommandAllowed(cmd, args)) return Verdict::kDeniedCommand;
  if (!all_keys_ && !KeysAllowed(cmd, args, scratch)) return Verdict::kDeniedKey;
  if (!all_channels_ && (cmd.flags & kCmdPubsub) && !ChannelsAllowed(cmd, args)) {
    return Verdict::kDeniedChannel;
  }
  return Verdict::kAllowed;
}

bool UserAcl::CommandAllowed(const CommandInfo& cmd,
                             const std::vector<std::string_view>& args) const {
  if ((allowed_[cmd.id / 64] >> (cmd.id % 64) & 1) || (cmd.flags & kCmdNoAuth)) return true;
  const size_t index = cmd.parent != nullptr ? 2 : 1;
  if (args.size() <= index) return false;
  for (const std::string& first : first_args_[cmd.id]) {
    if (EqualsIgnoreCase(args[index], first)) return true;
  }
  return false;
}

// Redis's ACLSelectorCheckKey: a pattern grants a key when it has every permission the key's
// spec needs and matches it.
bool UserAcl::KeyAllowed(std::string_view key, uint8_t access) const {
  const uint8_t needed = access & (kKeyAclRead | kKeyAclWrite);
  for (const AclKeyPattern& pattern : keys_) {
    if ((pattern.access & needed) == needed && GlobMatch(pattern.pattern, key)) return true;
  }
  return false;
}

bool UserAcl::KeysAllowed(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                          AclScratch* scratch) const {
  if (cmd.num_key_specs == 0) return true;
  // One key at a fixed position (GET, SET without GET's variable flags, INCR, ...): no extraction.
  const uint8_t first_spec = cmd.key_specs[0].acl;
  if (cmd.fixed_key > 0 && !(first_spec & (kKeyAclVariable | kKeyAclNotKey))) {
    return args.size() <= static_cast<size_t>(cmd.fixed_key) ||
           KeyAllowed(args[cmd.fixed_key], first_spec);
  }
  // Arguments that hide the keys (a bad key count): no key to check; the node answers the error.
  if (!ExtractKeysWithAccess(cmd, args, &scratch->positions, &scratch->access)) return true;
  for (size_t i = 0; i < scratch->positions.size(); ++i) {
    if (scratch->access[i] & kKeyAclNotKey) continue;  // shard channels: checked as channels
    if (!KeyAllowed(args[scratch->positions[i]], scratch->access[i])) return false;
  }
  return true;
}

// Redis 7.0's channel check (commands_with_channels): PUBLISH and SPUBLISH name one channel,
// SUBSCRIBE and SSUBSCRIBE several, which the patterns must match; PSUBSCRIBE's patterns must be
// listed literally. Unsubscribing is never checked.
bool UserAcl::ChannelsAllowed(const CommandInfo& cmd,
                              const std::vector<std::string_view>& args) const {
  const std::string_view name(cmd.name);
  const bool pattern = name == "psubscribe";
  size_t last = args.size();
  if (IsOneOf(name, {"publish", "spublish"})) {
    last = 2;
  } else if (!pattern && !IsOneOf(name, {"subscribe", "ssubscribe"})) {
    return true;
  }
  for (size_t i = 1; i < last && i < args.size(); ++i) {
    bool granted = false;
    for (const std::string& allowed : channels_) {
      granted = pattern ? allowed == args[i] : GlobMatch(allowed, args[i]);
      if (granted) break;
    }
    if (!granted) return false;
  }
  return true;
}

}  // namespace slotplane::dataplane
