#include "common/acl_rules.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/acl_categories.h"
#include "common/strings.h"

namespace slotplane {
namespace {

// Redis 7.0's reasons (ACLSetUserStringError), by the errno it sets.
constexpr std::string_view kUnknownName = "Unknown command or category name in ACL";
constexpr std::string_view kSyntax = "Syntax error";
constexpr std::string_view kKeyAfterAll =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
    "any effect. Try 'resetkeys' to start with an empty list of patterns";
constexpr std::string_view kChannelAfterAll =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels";
constexpr std::string_view kFirstArgOfSubcommand =
    "Allowing first-arg of a subcommand is not supported";

absl::Status Bad(std::string_view rule, std::string_view why) {
  return absl::InvalidArgumentError(AclRuleError(rule, why));
}

bool IsPasswordRule(std::string_view rule) {
  return !rule.empty() && std::string_view(">#<!").find(rule[0]) != std::string_view::npos;
}

// ~pattern, %R~pattern, %W~pattern, %RW~pattern (R and W in any order and case, each once).
absl::Status ApplyKeyRule(AclPermissions* p, std::string_view rule) {
  if (p->all_keys) return Bad(rule, kKeyAfterAll);
  uint8_t access = kAclKeyReadWrite;
  size_t offset = 1;
  if (rule[0] == '%') {
    access = 0;
    for (; offset < rule.size(); ++offset) {
      const char c = absl::ascii_toupper(static_cast<unsigned char>(rule[offset]));
      if (c == 'R' && !(access & kAclKeyRead)) {
        access |= kAclKeyRead;
      } else if (c == 'W' && !(access & kAclKeyWrite)) {
        access |= kAclKeyWrite;
      } else if (rule[offset] == '~') {
        ++offset;
        break;
      } else {
        return Bad(rule, kSyntax);
      }
    }
    if (access == 0) return Bad(rule, kSyntax);
  }
  const std::string_view pattern = rule.substr(std::min(offset, rule.size()));
  if (pattern == "*" && access == kAclKeyReadWrite) {
    p->all_keys = true;
    p->keys.clear();
    return absl::OkStatus();
  }
  for (AclKeyPattern& existing : p->keys) {
    if (existing.pattern == pattern) {
      existing.access |= access;  // as Redis: the same pattern twice merges its permissions
      return absl::OkStatus();
    }
  }
  p->keys.push_back({access, std::string(pattern)});
  return absl::OkStatus();
}

absl::Status ApplyChannelRule(AclPermissions* p, std::string_view rule) {
  if (p->all_channels) return Bad(rule, kChannelAfterAll);
  const std::string_view pattern = rule.substr(1);
  if (pattern == "*") {
    p->all_channels = true;
    p->channels.clear();
  } else if (std::find(p->channels.begin(), p->channels.end(), pattern) == p->channels.end()) {
    p->channels.emplace_back(pattern);
  }
  return absl::OkStatus();
}

// +@category, -@category, +@all, -@all.
absl::Status ApplyCategoryRule(AclPermissions* p, std::string_view rule, std::string_view lower) {
  const std::string_view category = lower.substr(2);
  if (category == "all") {
    // Everything before is overridden; an empty list already means no command.
    p->commands.clear();
    if (lower[0] == '+') p->commands.emplace_back(lower);
    return absl::OkStatus();
  }
  if (AclCategoryBit(category) == 0) return Bad(rule, kUnknownName);
  p->commands.emplace_back(lower);
  return absl::OkStatus();
}

using Kind = AclCommandCatalog::Kind;

// +name, -name, +name|sub, +name|firstarg (a command without subcommands), -name|sub.
absl::Status ApplyCommandRule(AclPermissions* p, std::string_view rule, std::string_view lower,
                              const AclCommandCatalog* catalog) {
  const std::string_view name = lower.substr(1);
  if (name.empty()) return Bad(rule, kUnknownName);
  const size_t bar = name.rfind('|');
  if (catalog != nullptr) {
    if (bar == std::string_view::npos || lower[0] == '-') {
      const Kind kind = catalog->Lookup(name);
      if (kind == Kind::kUnknown) return Bad(rule, kUnknownName);
    } else {
      const Kind base = catalog->Lookup(name.substr(0, bar));
      if (base == Kind::kUnknown) return Bad(rule, kUnknownName);
      if (base == Kind::kSubcommand) return Bad(rule, kFirstArgOfSubcommand);
      if (bar + 1 == name.size()) return Bad(rule, kSyntax);
      if (base == Kind::kContainer && catalog->Lookup(name) != Kind::kSubcommand) {
        return Bad(rule, kUnknownName);
      }
    }
  } else if (bar + 1 == name.size()) {
    return Bad(rule, kSyntax);
  }
  p->commands.emplace_back(lower);
  return absl::OkStatus();
}

// Rules that are one word: key, channel and command sets, and the ones without effect here.
bool ApplyKeywordRule(AclPermissions* p, std::string_view lower) {
  if (lower == "allkeys") {
    p->all_keys = true;
    p->keys.clear();
  } else if (lower == "resetkeys") {
    p->all_keys = false;
    p->keys.clear();
  } else if (lower == "allchannels") {
    p->all_channels = true;
    p->channels.clear();
  } else if (lower == "resetchannels") {
    p->all_channels = false;
    p->channels.clear();
  } else if (lower == "allcommands") {
    p->commands.assign({"+@all"});
  } else if (lower == "nocommands") {
    p->commands.clear();
  } else if (lower == "sanitize-payload" || lower == "skip-sanitize-payload" ||
             lower == "clearselectors") {
    // RESTORE payloads are checked by the cluster nodes under their own settings, and slotplane
    // users have no selectors to clear.
  } else {
    return false;
  }
  return true;
}

}  // namespace

AclPermissions AclPermissions::Full() {
  AclPermissions p;
  p.commands = {"+@all"};
  p.all_keys = true;
  p.all_channels = true;
  return p;
}

bool AclPermissions::IsFull() const {
  return all_keys && all_channels && commands.size() == 1 && commands[0] == "+@all";
}

bool AclPermissions::operator==(const AclPermissions& o) const {
  return commands == o.commands && all_keys == o.all_keys && keys == o.keys &&
         all_channels == o.all_channels && channels == o.channels;
}

std::string AclRuleForMessage(std::string_view rule) {
  if (IsPasswordRule(rule)) return absl::StrCat(AbslView(rule.substr(0, 1)), "<redacted>");
  // Only key, channel, command and selector rules are echoed: any other word may be a password
  // written without its '>'.
  const bool quotable =
      !rule.empty() && std::string_view("~%&+-(").find(rule[0]) != std::string_view::npos;
  return quotable ? Echoed(rule) : std::string("<redacted>");
}

std::string AclRuleError(std::string_view rule, std::string_view why) {
  return absl::StrCat("Error in ACL SETUSER modifier '", AclRuleForMessage(rule),
                      "': ", AbslView(why));
}

absl::Status ApplyAclPermissionRule(AclPermissions* permissions, std::string_view rule,
                                    const AclCommandCatalog* catalog) {
  if (rule.empty()) return absl::NotFoundError("not a permission rule");
  const std::string lower = absl::AsciiStrToLower(AbslView(rule));
  if (ApplyKeywordRule(permissions, lower)) return absl::OkStatus();
  switch (rule[0]) {
    case '~':
    case '%':
      return ApplyKeyRule(permissions, rule);
    case '&':
      return ApplyChannelRule(permissions, rule);
    case '(':
      return Bad(rule, "ACL selectors are not supported by slotplane");
    case '+':
    case '-':
      if (lower.size() >= 2 && lower[1] == '@') return ApplyCategoryRule(permissions, rule, lower);
      return ApplyCommandRule(permissions, rule, lower, catalog);
    default:
      return absl::NotFoundError("not a permission rule");
  }
}

std::vector<std::string> AclPermissionRules(const AclPermissions& permissions) {
  std::vector<std::string> rules;
  if (permissions.all_keys) {
    rules.push_back("allkeys");
  } else {
    rules.push_back("resetkeys");
    for (const AclKeyPattern& key : permissions.keys) {
      const char* prefix = key.access == kAclKeyReadWrite ? "~"
                           : key.access == kAclKeyRead    ? "%R~"
                                                          : "%W~";
      rules.push_back(absl::StrCat(prefix, key.pattern));
    }
  }
  if (permissions.all_channels) {
    rules.push_back("allchannels");
  } else {
    rules.push_back("resetchannels");
    for (const std::string& channel : permissions.channels) rules.push_back("&" + channel);
  }
  // The list starts from no command unless it begins with +@all or -@all itself.
  if (permissions.commands.empty() ||
      (permissions.commands[0] != "+@all" && permissions.commands[0] != "-@all")) {
    rules.push_back("-@all");
  }
  for (const std::string& command : permissions.commands) rules.push_back(command);
  return rules;
}

std::string AclPermissionText(const AclPermissions& permissions) {
  return absl::StrJoin(AclPermissionRules(permissions), " ");
}

}  // namespace slotplane
