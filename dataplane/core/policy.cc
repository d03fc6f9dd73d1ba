#include "dataplane/core/policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/sha256.h"

namespace slotplane::dataplane {
namespace {

struct ReadPolicyEntry {
  ReadPolicy policy;
  const char* name;
};

constexpr ReadPolicyEntry kReadPolicies[] = {
    {ReadPolicy::kMaster, "master"},   {ReadPolicy::kPreferMaster, "prefer-master"},
    {ReadPolicy::kReplica, "replica"}, {ReadPolicy::kPreferReplica, "prefer-replica"},
    {ReadPolicy::kAny, "any"},
};

constexpr const char* kDefaultUser = "default";

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string UserNames(const ProxyPolicy& policy) {
  std::vector<std::string> names;
  for (const ClientUser& user : policy.users) names.push_back(user.name);
  return absl::StrJoin(names, " ");
}

bool HasPassword(const ProxyPolicy& policy) {
  const ClientUser* user = policy.FindUser(kDefaultUser);
  return user != nullptr && !user->nopass && !user->password_sha256.empty();
}

// `requirepass PASS`: the default user's only password; empty makes it nopass (Redis's rule).
void SetRequirePass(std::vector<ClientUser>* users, const std::string& password) {
  ClientUser* user = nullptr;
  for (ClientUser& u : *users) {
    if (u.name == kDefaultUser) user = &u;
  }
  if (user == nullptr) {
    users->push_back(ClientUser{kDefaultUser, {}, true, false});
    user = &users->back();
  }
  user->enabled = true;
  user->nopass = password.empty();
  user->password_sha256.clear();
  if (!password.empty()) user->password_sha256.push_back(Sha256Hex(password));
}

// One option of the policy: how PROXY CONFIG GET shows it, and how a value parsed into a scratch
// ProxyOptions (by the config-file parser, so validation is identical) is copied into a policy.
// `copy` is null for options that CONFIG SET cannot change.
struct PolicyField {
  const char* name;
  std::string (*get)(const ProxyPolicy&);
  void (*copy)(const ProxyOptions&, ProxyPolicy*);
};

#define SLOTPLANE_POLICY_FIELD(option, field, show)                       \
  PolicyField {                                                           \
    option, [](const ProxyPolicy& p) { return show(p.field); },           \
        [](const ProxyOptions& o, ProxyPolicy* p) { p->field = o.field; } \
  }

std::string Number(int64_t n) { return absl::StrCat(n); }

const std::vector<PolicyField>& PolicyFields() {
  static const auto* fields = new std::vector<PolicyField>{
      SLOTPLANE_POLICY_FIELD("maxclients", maxclients, Number),
      PolicyField{"log-level",
                  [](const ProxyPolicy& p) { return std::string(LogLevelName(p.log_level)); },
                  [](const ProxyOptions& o, ProxyPolicy* p) { p->log_level = o.log_level; }},
      PolicyField{"auth",
                  [](const ProxyPolicy& p) {
                    return std::string(p.backend_password.empty() ? "" : "(set)");
                  },
                  [](const ProxyOptions& o, ProxyPolicy* p) { p->backend_password = o.auth; }},
      PolicyField{"auth-user", [](const ProxyPolicy& p) { return p.backend_user; },
                  [](const ProxyOptions& o, ProxyPolicy* p) { p->backend_user = o.auth_user; }},
      SLOTPLANE_POLICY_FIELD("enable-cross-slot", enable_cross_slot, YesNo),
      PolicyField{"read-policy",
                  [](const ProxyPolicy& p) { return std::string(ReadPolicyName(p.read_policy)); },
                  [](const ProxyOptions& o, ProxyPolicy* p) {
                    ParseReadPolicy(o.read_policy, &p->read_policy);
                  }},
      SLOTPLANE_POLICY_FIELD("connections-pool-size", connections_pool_size, Number),
      SLOTPLANE_POLICY_FIELD("connections-pool-min-size", connections_pool_min_size, Number),
      SLOTPLANE_POLICY_FIELD("connections-pool-spawn-every", connections_pool_spawn_every, Number),
      SLOTPLANE_POLICY_FIELD("connections-pool-spawn-rate", connections_pool_spawn_rate, Number),
      SLOTPLANE_POLICY_FIELD("dump-queries", dump_queries, YesNo),
      SLOTPLANE_POLICY_FIELD("dump-buffer", dump_buffer, YesNo),
      SLOTPLANE_POLICY_FIELD("dump-queues", dump_queues, YesNo),
      SLOTPLANE_POLICY_FIELD("proto-max-bulk-len", proto_max_bulk_len, Number),
      SLOTPLANE_POLICY_FIELD("max-multibulk-len", max_multibulk_len, Number),
      SLOTPLANE_POLICY_FIELD("client-query-buffer-limit", client_query_buffer_limit, Number),
      SLOTPLANE_POLICY_FIELD("max-redirects", max_redirects, Number),
      SLOTPLANE_POLICY_FIELD("tryagain-retries", tryagain_retries, Number),
      PolicyField{
          "requirepass",
          [](const ProxyPolicy& p) { return std::string(HasPassword(p) ? "(set)" : ""); },
          [](const ProxyOptions& o, ProxyPolicy* p) { SetRequirePass(&p->users, o.requirepass); }},
      // Users change through the control plane's user API or the config file, not CONFIG SET.
      PolicyField{"user", UserNames, nullptr},
  };
  return *fields;
}

#undef SLOTPLANE_POLICY_FIELD

const PolicyField* FindPolicyField(std::string_view name) {
  std::string lower = absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
  for (const PolicyField& field : PolicyFields()) {
    if (lower == field.name) return &field;
  }
  return nullptr;
}

}  // namespace

bool ParseReadPolicy(std::string_view text, ReadPolicy* policy) {
  for (const ReadPolicyEntry& entry : kReadPolicies) {
    if (text == entry.name) {
      *policy = entry.policy;
      return true;
    }
  }
  return false;
}

const char* ReadPolicyName(ReadPolicy policy) {
  for (const ReadPolicyEntry& entry : kReadPolicies) {
    if (entry.policy == policy) return entry.name;
  }
  return "master";
}

const ClientUser* ProxyPolicy::FindUser(std::string_view name) const {
  for (const ClientUser& user : users) {
    if (user.name == name) return &user;
  }
  return nullptr;
}

void FinishPolicy(ProxyPolicy* policy) {
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
  policy.enable_cross_slot = options.enable_cross_slot;
  ParseReadPolicy(options.read_policy, &policy.read_policy);
  policy.log_level = options.log_level;
  policy.maxclients = options.maxclients;
  policy.proto_max_bulk_len = options.proto_max_bulk_len;
  policy.max_multibulk_len = options.max_multibulk_len;
  policy.client_query_buffer_limit = options.client_query_buffer_limit;
  policy.max_redirects = options.max_redirects;
  policy.tryagain_retries = options.tryagain_retries;
  policy.backend_user = options.auth_user;
  policy.backend_password = options.auth;
  policy.users = UsersFromOptions(options);
  policy.connections_pool_size = options.connections_pool_size;
  policy.connections_pool_min_size = options.connections_pool_min_size;
  policy.connections_pool_spawn_every = options.connections_pool_spawn_every;
  policy.connections_pool_spawn_rate = options.connections_pool_spawn_rate;
  policy.dump_queries = options.dump_queries;
  policy.dump_buffer = options.dump_buffer;
  policy.dump_queues = options.dump_queues;
  FinishPolicy(&policy);
  return policy;
}

bool IsPolicyOption(std::string_view name) { return FindPolicyField(name) != nullptr; }

std::vector<std::string> PolicyOptionNames() {
  std::vector<std::string> names;
  for (const PolicyField& field : PolicyFields()) names.push_back(field.name);
  return names;
}

absl::StatusOr<std::string> GetPolicyOption(const ProxyPolicy& policy, std::string_view name) {
  const PolicyField* field = FindPolicyField(name);
  if (field == nullptr) {
    return absl::NotFoundError(absl::StrCat("'", std::string(name), "' is not a policy option"));
  }
  return field->get(policy);
}

absl::Status SetPolicyOption(ProxyPolicy* policy, std::string_view name, const std::string& value) {
  const PolicyField* field = FindPolicyField(name);
  if (field == nullptr) {
    return absl::NotFoundError(absl::StrCat("'", std::string(name), "' is not a policy option"));
  }
  if (field->copy == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "option '", field->name,
        "' cannot be set at runtime: manage users in the config file or with slotplanectl users"));
  }
  ProxyOptions scratch;
  if (absl::Status s = ApplyOption(&scratch, field->name, {value}); !s.ok()) return s;
  field->copy(scratch, policy);
  FinishPolicy(policy);
  return absl::OkStatus();
}

}  // namespace slotplane::dataplane
