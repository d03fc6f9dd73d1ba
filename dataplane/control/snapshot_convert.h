#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/cluster_view.h"
#include "dataplane/core/policy.h"
#include "dataplane/core/proxy_config.h"
#include "slotplane/v1/config.pb.h"

namespace slotplane::dataplane {

// A snapshot from the control plane, checked and converted into what the workers use.
struct ConvertedSnapshot {
  uint64_t version = 0;
  ClusterViewPtr view;  // null when the snapshot has no topology (no shards) yet
  ProxyPolicyPtr policy;
};

// The policy of a snapshot: every fleet option (common/fleet_options.h's TakeFleetSettings) and
// the client users. A field the control plane leaves unset (0 or empty: limits, pool sizes, log
// level, backend password, users) takes this proxy's own option from `local`; the backend user
// comes with the backend password. Fails, naming the field, on anything this proxy cannot apply:
// a value outside the option's range, an unknown read policy or log level, a user without a name
// or listed twice, a password hash that is not 64 hex digits, or a maxclients above
// `max_clients_possible` (what this process can serve with its open-files limit, see
// MaxClientsForOpenFiles; 0 skips that check).
absl::StatusOr<ProxyPolicy> PolicyFromProto(const v1::Policy& policy, const ProxyOptions& local,
                                            int64_t max_clients_possible);

// The whole snapshot: topology (ClusterViewFromProto's validation) and policy. The policy's
// version is `version`.
absl::StatusOr<ConvertedSnapshot> ConvertSnapshot(uint64_t version, const v1::ProxyConfig& config,
                                                  const ProxyOptions& local,
                                                  int64_t max_clients_possible);

// The most client connections a process with `max_open_files` descriptors can serve: Redis keeps
// 32 descriptors for itself; each worker thread also needs a listener, its wakeup descriptor and a
// connection per cluster node (16 per worker are set aside).
int64_t MaxClientsForOpenFiles(int64_t max_open_files, int threads);

// This process's open-files limit (RLIMIT_NOFILE, soft), after RaiseOpenFilesLimit().
int64_t OpenFilesLimit();
// Raises the soft open-files limit to the hard one, as Redis does at start.
void RaiseOpenFilesLimit();

}  // namespace slotplane::dataplane
