#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cluster_view.h"
#include "controlplane/metrics/metrics.h"
#include "controlplane/store/policy_store.h"
#include "controlplane/watch/watch_hub.h"
#include "slotplane/v1/config.pb.h"

namespace slotplane::control {

// A copy of the current state for readers.
struct StateView {
  uint64_t version = 0;     // 0: nothing yet (fresh store, no topology)
  v1::Policy policy;        // with secrets: redact before showing it
  ClusterViewPtr topology;  // null until known
  bool published = false;   // the version was handed to the watch streams
};

// The one versioned (topology, policy) pair of the fleet. Every change — a different topology or
// an accepted policy edit — gets the next version, is saved to the store (durably, before anyone
// hears of it) and is then published to every watch stream through the hub, built and serialized
// once. Versions only grow, across restarts too: the stored state carries the version and the
// topology it was built from, so a restart against an unchanged cluster serves the same version,
// and any change continues from the stored version + 1.
//
// Until a topology is known (stored or discovered) nothing is published: a proxy must never get
// an empty slot map. Thread-safe; one mutex orders every change (store writes included).
class ConfigState {
 public:
  ConfigState(PolicyStore* store, WatchHub* hub, ControlMetrics* metrics, std::string boot_id)
      : store_(store), hub_(hub), metrics_(metrics), boot_id_(std::move(boot_id)) {}
  ConfigState(const ConfigState&) = delete;
  ConfigState& operator=(const ConfigState&) = delete;

  // Reads the store; a fresh store starts from `initial_policy` (saved with the first change).
  // Call once, before anything else.
  absl::Status Load(const v1::Policy& initial_policy);

  using PolicyEdit = std::function<absl::Status(v1::Policy*)>;
  // Applies `edit` to a copy of the policy. With `expected_version` non-zero, fails with Aborted
  // unless it is the current version. An edit that changes nothing makes no new version. Returns
  // the version in force afterwards. `what` describes the change for the log (no secrets).
  absl::StatusOr<uint64_t> EditPolicy(const PolicyEdit& edit, uint64_t expected_version,
                                      const std::string& what);

  // A freshly discovered topology; true when it differs (ClusterView::SameTopology) from the
  // current one and so made a new version. The first call after a restart with the stored
  // topology unchanged publishes the stored version as it is.
  absl::StatusOr<bool> SetTopology(ClusterViewPtr view);
  // Discovery failed at start: publish the stored topology and version, if there are any.
  void PublishStored();

  // A state another replica saved to the shared store (EtcdStore's watch): when its version is
  // newer than ours, it becomes the current state and is published with that same version
  // number, as if this replica had made it. Older or equal versions are ignored.
  void Adopt(const v1::ProxyConfig& config);

  StateView Current() const;
  ClusterViewPtr Topology() const;
  const std::string& boot_id() const { return boot_id_; }
  // Credentials for discovery: the policy's backend credentials.
  v1::BackendCredentials BackendCredentials() const;

 private:
  // Saves (version, topology, policy) and, with a topology, publishes it.
  absl::Status CommitLocked(uint64_t version, const v1::Policy& policy, ClusterViewPtr topology);
  void PublishLocked();
  // Adopt with mu_ held; returns whether the state changed.
  bool AdoptLocked(const v1::ProxyConfig& config);
  // After a store Save failed with Aborted (another replica saved first): reads the store and
  // adopts what it holds.
  void CatchUpLocked();
  v1::ProxyConfig ConfigLocked() const;

  PolicyStore* const store_;
  WatchHub* const hub_;
  ControlMetrics* const metrics_;
  const std::string boot_id_;

  mutable std::mutex mu_;
  uint64_t version_ = 0;
  v1::Policy policy_;
  ClusterViewPtr topology_;
  bool published_ = false;  // version_ was published
};

}  // namespace slotplane::control
