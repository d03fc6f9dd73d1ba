#include "dataplane/control/snapshot_convert.h"

#include <sys/resource.h>

#include <algorithm>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/cluster_view_proto.h"

namespace slotplane::dataplane {
namespace {

constexpr int64_t kReservedFds = 32;
constexpr int64_t kFdsPerWorker = 16;

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// A limit: 0 keeps `local`; otherwise it must lie in [min, max] (the option's own range).
template <typename T>
absl::Status TakeLimit(const char* name, int64_t value, int64_t min, int64_t max, T local, T* out) {
  if (value == 0) {
    *out = local;
    return absl::OkStatus();
  }
  if (value < min || value > max) {
    return Invalid(
        absl::StrCat("policy: ", name, " ", value, " is out of range (", min, "..", max, ")"));
  }
  *out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status TakeLimits(const v1::Limits& limits, const ProxyOptions& local, ProxyPolicy* out) {
  constexpr int64_t kMb = 1024 * 1024;
  absl::Status s =
      TakeLimit("maxclients", limits.maxclients(), 1, 1000000, local.maxclients, &out->maxclients);
  if (s.ok()) {
    s = TakeLimit("proto-max-bulk-len", limits.proto_max_bulk_len(), kMb,
                  std::numeric_limits<int64_t>::max(), local.proto_max_bulk_len,
                  &out->proto_max_bulk_len);
  }
  if (s.ok()) {
    s = TakeLimit("max-multibulk-len", limits.max_multibulk_len(), 1, 1LL << 31,
                  local.max_multibulk_len, &out->max_multibulk_len);
  }
  if (s.ok()) {
    s = TakeLimit("client-query-buffer-limit", limits.client_query_buffer_limit(), kMb,
                  std::numeric_limits<int64_t>::max(), local.client_query_buffer_limit,
                  &out->client_query_buffer_limit);
  }
  if (s.ok()) {
    s = TakeLimit("max-redirects", limits.max_redirects(), 1, 100, local.max_redirects,
                  &out->max_redirects);
  }
  if (s.ok()) {
    s = TakeLimit("tryagain-retries", limits.tryagain_retries(), 0, 100, local.tryagain_retries,
                  &out->tryagain_retries);
  }
  return s;
}

bool IsLowerHex64(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::StatusOr<std::vector<ClientUser>> UsersFromProto(
    const google::protobuf::RepeatedPtrField<v1::ClientUser>& users) {
  std::vector<ClientUser> out;
  absl::flat_hash_set<std::string> names;
  for (const v1::ClientUser& user : users) {
    if (user.name().empty()) return Invalid("policy: a client user has no name");
    if (!names.insert(user.name()).second) {
      return Invalid(absl::StrCat("policy: client user '", user.name(), "' is listed twice"));
    }
    ClientUser converted{user.name(), {}, user.enabled(), user.nopass()};
    for (const std::string& hash : user.password_sha256()) {
      std::string lower = absl::AsciiStrToLower(hash);
      if (!IsLowerHex64(lower)) {
        return Invalid(absl::StrCat("policy: client user '", user.name(),
                                    "' has a password hash that is not SHA-256 hex"));
      }
      converted.password_sha256.push_back(std::move(lower));
    }
    out.push_back(std::move(converted));
  }
  return out;
}

absl::Status TakeReadPolicy(v1::ReadPolicy value, ReadPolicy* out) {
  switch (value) {
    case v1::READ_POLICY_UNSPECIFIED:
    case v1::READ_POLICY_MASTER:
      *out = ReadPolicy::kMaster;
      return absl::OkStatus();
    case v1::READ_POLICY_PREFER_MASTER:
      *out = ReadPolicy::kPreferMaster;
      return absl::OkStatus();
    case v1::READ_POLICY_REPLICA:
      *out = ReadPolicy::kReplica;
      return absl::OkStatus();
    case v1::READ_POLICY_PREFER_REPLICA:
      *out = ReadPolicy::kPreferReplica;
      return absl::OkStatus();
    case v1::READ_POLICY_ANY:
      *out = ReadPolicy::kAny;
      return absl::OkStatus();
    default:
      // A newer control plane may know policies this proxy does not.
      return Invalid(absl::StrCat("policy: unknown read policy ", static_cast<int>(value)));
  }
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
  out.enable_cross_slot = policy.enable_cross_slot();
  if (absl::Status s = TakeReadPolicy(policy.read_policy(), &out.read_policy); !s.ok()) return s;
  if (!policy.log_level().empty() &&
      !ParseLogLevel(absl::AsciiStrToLower(policy.log_level()), &out.log_level)) {
    return Invalid(absl::StrCat("policy: unknown log level '", policy.log_level(), "'"));
  }
  if (absl::Status s = TakeLimits(policy.limits(), local, &out); !s.ok()) return s;
  if (max_clients_possible > 0 && policy.limits().maxclients() > max_clients_possible) {
    return Invalid(absl::StrCat("policy: maxclients ", policy.limits().maxclients(),
                                " is more than this proxy's open-files limit allows (",
                                max_clients_possible, ")"));
  }
  if (!policy.backend().password().empty()) {
    out.backend_user = policy.backend().user();
    out.backend_password = policy.backend().password();
  }
  if (policy.users_size() > 0) {
    auto users = UsersFromProto(policy.users());
    if (!users.ok()) return users.status();
    out.users = *std::move(users);
  }
  auto take = [](int32_t value, int* field) {
    if (value > 0) *field = value;
  };
  take(policy.connections_pool_size(), &out.connections_pool_size);
  take(policy.connections_pool_min_size(), &out.connections_pool_min_size);
  take(policy.connections_pool_spawn_every(), &out.connections_pool_spawn_every);
  take(policy.connections_pool_spawn_rate(), &out.connections_pool_spawn_rate);
  out.dump_queries = policy.dump_queries();
  out.dump_buffer = policy.dump_buffer();
  out.dump_queues = policy.dump_queues();
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
