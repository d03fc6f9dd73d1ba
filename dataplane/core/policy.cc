#include "dataplane/core/policy.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {
namespace {

constexpr const char* kDefaultUser = "default";

std::string UserNames(const ProxyPolicy& policy) {
  std::vector<std::string> names;
  for (const ClientUser& user : policy.users) names.push_back(user.name);
  return absl::StrJoin(names, " ");
}

bool HasPassword(const ProxyPolicy& policy) {
  const ClientUser* user = policy.FindUser(kDefaultUser);
  return user != nullptr && !user->nopass && !user->password_sha256.empty();
}

}  // namespace

// `requirepass PASS`: the default user's only password; empty makes it nopass (Redis's rule).
void SetRequirePass(std::vector<ClientUser>* users, const std::string& password) {
  ClientUser* user = nullptr;
  for (ClientUser& u : *users) {
    if (u.name == kDefaultUser) user = &u;
  }
  if (user == nullptr) {
    users->push_back(ClientUser{kDefaultUser, {}, true, false, AclPermissions::Full(), nullptr});
    user = &users->back();
  }
  user->enabled = true;
  user->nopass = password.empty();
  user->password_sha256.clear();
  if (!password.empty()) user->password_sha256.push_back(Sha256Hex(password));
}

namespace {

// The policy options beyond the fleet options: the proxy's own view of its client users.
bool IsRequirePass(std::string_view name) { return EqualsIgnoreCase(name, "requirepass"); }
bool IsUser(std::string_view name) { return EqualsIgnoreCase(name, "user"); }

absl::Status NotAPolicyOption(std::string_view name) {
  return absl::NotFoundError(absl::StrCat("'", Echoed(name), "' is not a policy option"));
}

size_t LowestLimit(const OutputBufferLimit& limit) {
  size_t lowest = SIZE_MAX;
  for (int64_t bytes : {limit.hard_bytes, limit.soft_bytes}) {
    if (bytes > 0) lowest = std::min(lowest, static_cast<size_t>(bytes));
  }
  return lowest;
}

}  // namespace

const ClientUser* ProxyPolicy::FindUser(std::string_view name) const {
  for (const ClientUser& user : users) {
    if (user.name == name) return &user;
  }
  return nullptr;
}

namespace {

// The ids of the commands `names` lists (validated when set: lower case, comma-joined, known),
// with every subcommand of a listed container.
std::vector<bool> ResendableIds(std::string_view names) {
  const CommandTable& table = CommandTable::Get();
  std::vector<bool> ids(table.Size(), false);
  for (absl::string_view name : absl::StrSplit(AbslView(names), ',', absl::SkipEmpty())) {
    const CommandInfo* info = table.Find(StdView(name));
    if (info == nullptr) continue;
    ids[info->id] = true;
    for (uint16_t id = 0; id < table.Size(); ++id) {
      if (table.ById(id).parent == info) ids[id] = true;
    }
  }
  return ids;
}

}  // namespace

bool ProxyPolicy::ResendableAfterLoss(const CommandInfo& info) const {
  if ((info.flags & kCmdReadonly) != 0) return true;
  return info.id < resend_after_loss.size() && resend_after_loss[info.id];
}

void FinishPolicy(ProxyPolicy* policy) {
  for (ClientUser& user : policy->users) {
    user.acl = nullptr;
    if (user.permissions.IsFull()) continue;
    auto acl = std::make_shared<const UserAcl>(user.permissions);
    if (!acl->unrestricted()) user.acl = std::move(acl);
  }
  policy->backend_user = policy->auth_user;
  policy->backend_password = policy->auth;
  // The text was validated when set; the defaults stand in should it ever not parse.
  absl::StatusOr<OutputBufferLimits> limits = ParseOutputBufferLimits(
      "client-output-buffer-limit", policy->client_output_buffer_limit, OutputBufferLimits());
  policy->output_limits = limits.ok() ? *limits : OutputBufferLimits();
  policy->output_check_bytes[0] = LowestLimit(policy->output_limits.normal);
  policy->output_check_bytes[1] = LowestLimit(policy->output_limits.pubsub);
  policy->resend_after_loss = ResendableIds(policy->failover_resend_commands);
  if (policy->users.empty()) {
    policy->auth_required = false;
    return;
  }
  const ClientUser* user = policy->FindUser(kDefaultUser);
  policy->auth_required = user == nullptr || !user->enabled || !user->nopass;
}

std::vector<ClientUser> UsersFromOptions(const ProxyOptions& options) {
  std::vector<ClientUser> users = options.users;
  if (!options.requirepass.empty()) SetRequirePass(&users, options.requirepass);
  return users;
}

ProxyPolicy PolicyFromOptions(const ProxyOptions& options) {
  ProxyPolicy policy;
  static_cast<FleetSettings&>(policy) = options;
  policy.users = UsersFromOptions(options);
  FinishPolicy(&policy);
  return policy;
}

bool IsPolicyOption(std::string_view name) {
  return FindFleetOption(name) != nullptr || IsRequirePass(name) || IsUser(name);
}

std::vector<std::string> PolicyOptionNames() {
  std::vector<std::string> names;
  for (const FleetOption& option : FleetOptions()) names.push_back(option.name());
  names.push_back("requirepass");
  names.push_back("user");
  return names;
}

absl::StatusOr<std::string> GetPolicyOption(const ProxyPolicy& policy, std::string_view name) {
  if (const FleetOption* option = FindFleetOption(name)) return option->Show(policy);
  if (IsRequirePass(name)) return std::string(HasPassword(policy) ? "(set)" : "");
  if (IsUser(name)) return UserNames(policy);
  return NotAPolicyOption(name);
}

absl::Status SetPolicyOption(ProxyPolicy* policy, std::string_view name, const std::string& value) {
  if (const FleetOption* option = FindFleetOption(name)) {
    if (absl::Status s = option->Parse(value, policy); !s.ok()) return s;
  } else if (IsRequirePass(name)) {
    SetRequirePass(&policy->users, value);
  } else if (IsUser(name)) {
    // Users change through the control plane's user API or the config file, not CONFIG SET.
    return absl::FailedPreconditionError(
        "option 'user' cannot be set at runtime: manage users in the config file or with "
        "slotplanectl users");
  } else {
    return NotAPolicyOption(name);
  }
  FinishPolicy(policy);
  return absl::OkStatus();
}

}  // namespace slotplane::dataplane
