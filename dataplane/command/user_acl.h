#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/acl_rules.h"
#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

// Scratch space a check reuses (one per worker): no allocation in the steady state.
struct AclScratch {
  std::vector<int> positions;
  std::vector<uint8_t> access;
};

// A user's ACL permissions compiled against the command table, as Redis 7.0 keeps a selector: a
// bitmap of the command ids the user may run (categories and subcommands resolved once, in rule
// order), the first arguments allowed for commands otherwise denied (`+select|0`), and the key
// and channel patterns. Immutable, built when a policy is built and shared by every worker; the
// check costs one bit test, plus pattern matching when keys or channels are restricted.
class UserAcl {
 public:
  enum class Verdict : uint8_t { kAllowed, kDeniedCommand, kDeniedKey, kDeniedChannel };

  // `permissions` must have been validated (ApplyAclPermissionRule with a catalog): unknown
  // names are skipped.
  explicit UserAcl(const AclPermissions& permissions);

  // True for +@all ~* &*: every command on every key and channel, nothing to check.
  bool unrestricted() const { return unrestricted_; }

  // Redis's ACLSelectorCheckCmd for `cmd` (the resolved subcommand for container commands)
  // called with `args` (the whole argv): the command or its first argument, then every key the
  // command names (split commands included) with the access its key spec needs, then the
  // channels of PUBLISH, SPUBLISH and the SUBSCRIBE family. Commands flagged no-auth (AUTH,
  // HELLO, ...) are always allowed.
  Verdict Check(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                AclScratch* scratch) const;

  // True when the user may run every command of `category` (PROXY SHUTDOWN asks for @admin).
  bool AllowsCategory(uint32_t category) const;

  // The rules as ACL LIST would show them.
  const std::string& text() const { return text_; }

 private:
  bool CommandAllowed(const CommandInfo& cmd, const std::vector<std::string_view>& args) const;
  bool KeysAllowed(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                   AclScratch* scratch) const;
  bool ChannelsAllowed(const CommandInfo& cmd, const std::vector<std::string_view>& args) const;
  bool KeyAllowed(std::string_view key, uint8_t access) const;
  void SetCommand(const CommandInfo& cmd, bool allow);
  void SetCategory(uint32_t category, bool allow);

  std::vector<uint64_t> allowed_;                     // bit `id` of CommandInfo::id
  std::vector<std::vector<std::string>> first_args_;  // by command id; empty for most
  bool all_keys_ = false;
  std::vector<AclKeyPattern> keys_;
  bool all_channels_ = false;
  std::vector<std::string> channels_;
  bool unrestricted_ = false;
  std::string text_;
};

using UserAclPtr = std::shared_ptr<const UserAcl>;

}  // namespace slotplane::dataplane
