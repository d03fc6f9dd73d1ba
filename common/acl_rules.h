#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

// The permission part of Redis 7.0's ACL rules (ACL SETUSER, `user` lines): commands and
// categories, key patterns, channel patterns. Passwords and on/off stay with the callers (the
// proxy's `user` option, the control plane's users); this file only parses, validates and
// stores the permission rules, with Redis's error wording. Shared by slotplane-proxy (which
// compiles the result into a per-command bitmap, dataplane/command/user_acl.h) and
// slotplane-control (which validates rules before they enter the policy).
namespace slotplane {

enum AclKeyAccess : uint8_t {
  kAclKeyRead = 1,                                // %R~
  kAclKeyWrite = 2,                               // %W~
  kAclKeyReadWrite = kAclKeyRead | kAclKeyWrite,  // ~ and %RW~
};

struct AclKeyPattern {
  uint8_t access = kAclKeyReadWrite;
  std::string pattern;
  bool operator==(const AclKeyPattern& o) const {
    return access == o.access && pattern == o.pattern;
  }
};

// What a user may do. A new user may do nothing (Redis's default for a new user, and for a
// `user` config line, which starts from `reset`).
struct AclPermissions {
  // Command rules in the order given, lower case: "+get", "-config|set", "+@read", "+select|0"
  // (a first argument). Empty: no command. `+@all` and `-@all` drop what came before; `+@all`
  // then starts the list, `-@all` leaves it empty.
  std::vector<std::string> commands;
  bool all_keys = false;            // allkeys / ~*
  std::vector<AclKeyPattern> keys;  // ignored when all_keys
  bool all_channels = false;        // allchannels / &*
  std::vector<std::string> channels;

  // The permissions of Redis's default user and of slotplane's users without rules: +@all ~* &*.
  static AclPermissions Full();
  bool IsFull() const;
  bool operator==(const AclPermissions& o) const;
};

// What a rule may name, answered from the command table the caller has: both binaries pass one
// built on the generated Redis 7.0 table (dataplane/command/acl_catalog.h).
class AclCommandCatalog {
 public:
  enum class Kind {
    kUnknown,
    kCommand,     // a command without subcommands ("get", "select")
    kContainer,   // a command with subcommands ("config")
    kSubcommand,  // "config|get"
  };
  virtual ~AclCommandCatalog() = default;
  // `lower_name` is lower case: "get", "config", "config|get".
  virtual Kind Lookup(std::string_view lower_name) const = 0;
};

// Applies one permission rule to `permissions`. Returns:
// - OK when `rule` was a permission rule (or one slotplane accepts without effect:
//   `sanitize-payload`, `skip-sanitize-payload`, `clearselectors`);
// - NotFound when `rule` is not a permission rule at all (on, off, passwords, nopass, reset,
//   ...): the caller handles it;
// - InvalidArgument with Redis's message ("Error in ACL SETUSER modifier '+nope': Unknown command
//   or category name in ACL") for a bad permission rule. Selectors (`(...)`) are refused.
// `catalog` may be null: command names are then not checked.
absl::Status ApplyAclPermissionRule(AclPermissions* permissions, std::string_view rule,
                                    const AclCommandCatalog* catalog);

// Redis's error for a bad rule: "Error in ACL SETUSER modifier 'RULE': WHY", the rule as
// AclRuleForMessage shows it.
std::string AclRuleError(std::string_view rule, std::string_view why);

// A rule as messages may show it: password rules (`>pw`, `<pw`, `#hash`, `!hash`) become their
// first character and "<redacted>"; key, channel, command and selector rules are echoed (at most
// 64 bytes); any other word is "<redacted>" (it may be a password missing its '>').
std::string AclRuleForMessage(std::string_view rule);

// The rules that rebuild `permissions` from nothing, one rule per element (a pattern may hold
// spaces, so rules travel as a list, never as one string). ApplyAclPermissionRule of each, in
// order, on an empty AclPermissions gives `permissions` back.
std::vector<std::string> AclPermissionRules(const AclPermissions& permissions);

// The same, as Redis's ACL LIST shows a user: words joined by spaces.
std::string AclPermissionText(const AclPermissions& permissions);

}  // namespace slotplane
