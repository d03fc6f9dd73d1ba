#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/logging.h"
#include "dataplane/proxy_config.h"

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
};

using ProxyPolicyPtr = std::shared_ptr<const ProxyPolicy>;

ProxyPolicy PolicyFromOptions(const ProxyOptions& options);

}  // namespace slotplane::dataplane
