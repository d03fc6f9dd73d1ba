#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/cluster_view.h"
#include "dataplane/core/policy.h"

namespace slotplane::dataplane {

class TopologyRefresher;

// What the applier needs of a worker: installs that reach it through its task queue and are
// applied on its own thread. Implemented by Worker.
class ConfigTarget {
 public:
  // Thread-safe: installs a new topology (in-flight requests keep their route).
  virtual void InstallView(ClusterViewPtr view) = 0;
  // Thread-safe: installs a new policy; `applied` (may be empty) then runs on the worker's thread.
  virtual void InstallPolicy(ProxyPolicyPtr policy, std::function<void()> applied) = 0;

 protected:
  ~ConfigTarget() = default;
};

// Where the topology in use came from.
enum class TopologySource { kNone, kCluster, kCache, kControlPlane };
const char* TopologySourceName(TopologySource source);

// The one writer of the workers' policy and topology. The control-plane client, the fallback
// topology refresher and standalone PROXY CONFIG SET all install through it, under one mutex, so
// every worker receives installs in the same order and two sources never interleave. Installs
// reach a worker through its task queue (ConfigTarget::InstallView / InstallPolicy); a worker never
// waits for this class. Thread-safe; never called on the request path.
class ConfigApplier {
 public:
  ConfigApplier(ProxyPolicyPtr initial_policy, TopologyRefresher* refresher);

  // Creates the workers under the lock, so no install can fall between their construction (with
  // the policy in force, passed to `create`) and their registration here. The topology in force,
  // if any, is then installed in each.
  void AttachWorkers(
      const std::function<std::vector<ConfigTarget*>(const ProxyPolicyPtr&)>& create);
  void set_refresher(TopologyRefresher* refresher);

  // Installs `view` (null: keep the current one; skipped when it equals the current topology)
  // and `policy` (null: keep) on every worker. `done` (may be empty) runs once every worker
  // applied both: on the last worker's thread, or at once when there are no workers yet.
  void Install(ClusterViewPtr view, TopologySource source, ProxyPolicyPtr policy,
               std::function<void()> done);

  // The control plane confirmed the version in force (a stream to another replica, or a
  // reconnect): `view` (null: none) is installed only when it differs from the topology in force
  // (the fallback refresher may have replaced it meanwhile), and `source` is recorded. The policy
  // is not sent to the workers again.
  void ConfirmView(ClusterViewPtr view, TopologySource source);

  // A topology found by the fallback refresher: installed unless the control plane owns the
  // topology right now.
  void InstallDiscoveredView(ClusterViewPtr view);
  // True while the control-plane stream is up and delivers the topology.
  void set_control_owns_topology(bool owns);
  bool control_owns_topology() const;

  // Standalone PROXY CONFIG SET: the current policy with the options changed and the next
  // version, installed everywhere; `done` as for Install(). Fails (nothing installed) when an
  // option is not a policy option or a value is invalid.
  absl::Status SetOptions(const std::vector<std::pair<std::string, std::string>>& options,
                          std::function<void()> done);

  ProxyPolicyPtr policy() const;
  ClusterViewPtr view() const;
  TopologySource view_source() const;

 private:
  void InstallLocked(ClusterViewPtr view, TopologySource source, ProxyPolicyPtr policy,
                     std::function<void()> done);

  mutable std::mutex mu_;
  ProxyPolicyPtr policy_;                               // guarded by mu_
  ClusterViewPtr view_;                                 // guarded by mu_
  TopologySource view_source_ = TopologySource::kNone;  // guarded by mu_
  bool control_owns_topology_ = false;                  // guarded by mu_
  std::vector<ConfigTarget*> workers_;                  // guarded by mu_
  TopologyRefresher* refresher_;                        // guarded by mu_
};

}  // namespace slotplane::dataplane
