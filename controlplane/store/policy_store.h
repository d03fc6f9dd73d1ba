#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "slotplane/v1/config.pb.h"

namespace slotplane::control {

// Where slotplane-control keeps what must survive a restart: the current version, the policy
// and the topology that version was built from (so that a restart with an unchanged cluster
// serves the same version again). The state is a v1::ProxyConfig; its topology may be absent
// (no topology known yet).
//
// The seam for other backends: FileStore is the embedded default; a store in etcd for several
// control-plane replicas implements the same two calls, Save as a transaction that compares the
// stored version with `previous_version`. Not thread-safe: ConfigState serializes every call.
class PolicyStore {
 public:
  virtual ~PolicyStore() = default;

  // The last saved state; nullopt when nothing was ever saved. An error (damaged data, I/O)
  // must stop the caller from starting: it never means "start empty".
  virtual absl::StatusOr<std::optional<v1::ProxyConfig>> Load() = 0;

  // Replaces the saved state. Durable when it returns OK (the caller acknowledges the change
  // only then). `previous_version` is the version the caller believes is stored (0: none); a
  // store shared by several writers fails with Aborted when it differs.
  virtual absl::Status Save(const v1::ProxyConfig& state, uint64_t previous_version) = 0;

  // For logs: "file /var/lib/slotplane/control.state".
  virtual std::string Describe() const = 0;
};

}  // namespace slotplane::control
