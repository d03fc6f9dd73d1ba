#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/logging.h"
#include "dataplane/core/client_user.h"
#include "dataplane/core/proxy_config.h"

namespace slotplane::dataplane {

// Where read-only commands may go (Envoy's read policies).
enum class ReadPolicy { kMaster, kPreferMaster, kReplica, kPreferReplica, kAny };

bool ParseReadPolicy(std::string_view text, ReadPolicy* policy);
const char* ReadPolicyName(ReadPolicy policy);

// The settings that may change while the proxy runs and that a fleet shares (the control plane
// distributes them; standalone, they come from the options). Immutable once built: a change is a
// new ProxyPolicy, handed to every worker like a new ClusterView; requests in flight finish under
// the policy they started with. Per-process settings (port, bind, threads, ...) are not here.
struct ProxyPolicy {
  uint64_t version = 0;
  bool enable_cross_slot = false;
  ReadPolicy read_policy = ReadPolicy::kMaster;
  LogLevel log_level = LogLevel::kInfo;
  int maxclients = 10000;
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  int64_t max_multibulk_len = 1024 * 1024;
  int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  int max_redirects = 5;
  int tryagain_retries = 5;
  // Credentials the proxy presents to the cluster nodes.
  std::string backend_user;
  std::string backend_password;
  // The complete set of client users. Empty: the implicit `default` user with no password, so
  // clients need not authenticate. Otherwise a client must authenticate unless `default` is in
  // the list, enabled and nopass (Redis's rule for new connections).
  std::vector<ClientUser> users;
  bool auth_required = false;  // derived from `users` by FinishPolicy()
  // Accepted for redis-cluster-proxy compatibility and distributed fleet-wide; no effect yet.
  int connections_pool_size = 10;
  int connections_pool_min_size = 10;
  int connections_pool_spawn_every = 50;
  int connections_pool_spawn_rate = 2;
  bool dump_queries = false;
  bool dump_buffer = false;
  bool dump_queues = false;

  // The user named `name`, or nullptr.
  const ClientUser* FindUser(std::string_view name) const;
};

using ProxyPolicyPtr = std::shared_ptr<const ProxyPolicy>;

// Computes the derived fields (auth_required) after users changed.
void FinishPolicy(ProxyPolicy* policy);

ProxyPolicy PolicyFromOptions(const ProxyOptions& options);

// The client users that `requirepass` and `user` options describe (requirepass sets the
// password of `default`, as in Redis).
std::vector<ClientUser> UsersFromOptions(const ProxyOptions& options);

// True for options that belong to the policy: the ones PROXY CONFIG SET may change at runtime
// (fleet-wide with a control plane). Every other option is per process.
bool IsPolicyOption(std::string_view name);
// Names of the policy options, in table order.
std::vector<std::string> PolicyOptionNames();

// The value of a policy option as PROXY CONFIG GET shows it (credentials only as "(set)").
absl::StatusOr<std::string> GetPolicyOption(const ProxyPolicy& policy, std::string_view name);
// Sets a policy option from its config-file text, validated exactly as the config file is.
absl::Status SetPolicyOption(ProxyPolicy* policy, std::string_view name, const std::string& value);

}  // namespace slotplane::dataplane
