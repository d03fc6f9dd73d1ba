#include "dataplane/control/snapshot_convert.h"

#include <sys/resource.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/acl_rules.h"
#include "common/cluster_view_proto.h"
#include "common/fleet_options.h"
#include "common/password_digest.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "dataplane/command/acl_catalog.h"

namespace slotplane::dataplane {
namespace {

constexpr int64_t kReservedFds = 32;
constexpr int64_t kFdsPerWorker = 16;

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// The user's ACL rules (ClientUser.acl_rules): none means every command, key and channel.
absl::Status SetAclRules(const v1::ClientUser& user, ClientUser* converted) {
  if (user.acl_rules_size() == 0) return absl::OkStatus();
  converted->permissions = AclPermissions{};
  for (const std::string& rule : user.acl_rules()) {
    absl::Status s =
        ApplyAclPermissionRule(&converted->permissions, rule, &CommandTableAclCatalog());
    if (!s.ok()) {
      return Invalid(absl::StrCat(
          "policy: client user '", Echoed(user.name()), "': ",
          absl::IsNotFound(s) ? AclRuleError(rule, "Syntax error") : std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ClientUser>> UsersFromProto(
    const google::protobuf::RepeatedPtrField<v1::ClientUser>& users) {
  std::vector<ClientUser> out;
  absl::flat_hash_set<std::string> names;
  for (const v1::ClientUser& user : users) {
    if (user.name().empty()) return Invalid("policy: a client user has no name");
    if (!names.insert(user.name()).second) {
      return Invalid(
          absl::StrCat("policy: client user '", Echoed(user.name()), "' is listed twice"));
    }
    ClientUser converted{
        user.name(),         {}, user.enabled(), user.nopass(), AclPermissions::Full(), nullptr,
        user.password_salt()};
    if (!converted.password_salt.empty() && !IsPasswordSalt(converted.password_salt)) {
      return Invalid(absl::StrCat("policy: client user '", Echoed(user.name()),
                                  "' has a password salt that is not 32 hex digits"));
    }
    // Salted digests; an older control plane sends unsalted ones (and no salt).
    const auto& hashes =
        converted.password_salt.empty() ? user.password_sha256() : user.password_salted_sha256();
    for (const std::string& hash : hashes) {
      std::string lower = absl::AsciiStrToLower(hash);
      if (!IsSha256Hex(lower)) {
        return Invalid(absl::StrCat("policy: client user '", Echoed(user.name()),
                                    "' has a password hash that is not SHA-256 hex"));
      }
      converted.password_sha256.push_back(std::move(lower));
    }
    if (absl::Status s = SetAclRules(user, &converted); !s.ok()) return s;
    out.push_back(std::move(converted));
  }
  return out;
}

}  // namespace

int64_t MaxClientsForOpenFiles(int64_t max_open_files, int threads) {
  return std::max<int64_t>(1, max_open_files - kReservedFds - kFdsPerWorker * threads);
}

int64_t OpenFilesLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<int64_t>(limit.rlim_cur);
}

void RaiseOpenFilesLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

absl::StatusOr<ProxyPolicy> PolicyFromProto(const v1::Policy& policy, const ProxyOptions& local,
                                            int64_t max_clients_possible) {
  ProxyPolicy out = PolicyFromOptions(local);
  if (absl::Status s = TakeFleetSettings(policy, &out); !s.ok()) {
    return Invalid(absl::StrCat("policy: ", s.message()));
  }
  // The backend credentials are one pair: with a password comes its user (empty: AUTH password).
  out.auth_user = policy.backend().password().empty() ? local.auth_user : policy.backend().user();
  if (max_clients_possible > 0 && policy.limits().maxclients() > max_clients_possible) {
    return Invalid(absl::StrCat("policy: maxclients ", policy.limits().maxclients(),
                                " is more than this proxy's open-files limit allows (",
                                max_clients_possible, ")"));
  }
  if (policy.users_size() > 0) {
    auto users = UsersFromProto(policy.users());
    if (!users.ok()) return users.status();
    out.users = *std::move(users);
    // As in Redis, `requirepass` is the default user's password: this proxy's own still applies
    // when the fleet's users do not define `default` (a fleet-wide `default` wins).
    if (!local.requirepass.empty() && out.FindUser("default") == nullptr) {
      SetRequirePass(&out.users, local.requirepass);
    }
  }
  FinishPolicy(&out);
  return out;
}

absl::StatusOr<ConvertedSnapshot> ConvertSnapshot(uint64_t version, const v1::ProxyConfig& config,
                                                  const ProxyOptions& local,
                                                  int64_t max_clients_possible) {
  ConvertedSnapshot out;
  out.version = version;
  if (config.topology().shards_size() > 0) {
    auto view = ClusterViewFromProto(config.topology());
    if (!view.ok()) {
      return Invalid(absl::StrCat("topology: ", view.status().message()));
    }
    out.view = *std::move(view);
  }
  auto policy = PolicyFromProto(config.policy(), local, max_clients_possible);
  if (!policy.ok()) return policy.status();
  policy->version = version;
  out.policy = std::make_shared<const ProxyPolicy>(*std::move(policy));
  return out;
}

}  // namespace slotplane::dataplane
