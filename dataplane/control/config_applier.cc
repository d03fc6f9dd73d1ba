#include "dataplane/control/config_applier.h"

#include <atomic>
#include <memory>

#include "common/logging.h"
#include "dataplane/control/topology_refresher.h"

namespace slotplane::dataplane {

const char* TopologySourceName(TopologySource source) {
  switch (source) {
    case TopologySource::kNone:
      return "none";
    case TopologySource::kCluster:
      return "cluster";
    case TopologySource::kCache:
      return "cache";
    case TopologySource::kControlPlane:
      return "control-plane";
  }
  return "none";
}

ConfigApplier::ConfigApplier(ProxyPolicyPtr initial_policy, TopologyRefresher* refresher)
    : policy_(std::move(initial_policy)), refresher_(refresher) {
  SetLogLevel(policy_->log_level);
}

void ConfigApplier::AttachWorkers(
    const std::function<std::vector<ConfigTarget*>(const ProxyPolicyPtr&)>& create) {
  std::lock_guard<std::mutex> lock(mu_);
  workers_ = create(policy_);
  if (view_ == nullptr) return;
  for (ConfigTarget* worker : workers_) worker->InstallView(view_);
}

void ConfigApplier::set_refresher(TopologyRefresher* refresher) {
  std::lock_guard<std::mutex> lock(mu_);
  refresher_ = refresher;
  if (refresher_ == nullptr) return;
  refresher_->SetPaused(control_owns_topology_);
  if (view_ != nullptr) refresher_->Adopt(view_);
}

void ConfigApplier::Install(ClusterViewPtr view, TopologySource source, ProxyPolicyPtr policy,
                            std::function<void()> done) {
  std::lock_guard<std::mutex> lock(mu_);
  InstallLocked(std::move(view), source, std::move(policy), std::move(done));
}

void ConfigApplier::InstallLocked(ClusterViewPtr view, TopologySource source, ProxyPolicyPtr policy,
                                  std::function<void()> done) {
  if (view != nullptr && view_ != nullptr && view_->SameTopology(*view)) {
    view_source_ = source;
    view = nullptr;  // nothing changed for the workers
  }
  if (view != nullptr) {
    view_ = view;
    view_source_ = source;
    if (refresher_ != nullptr && source != TopologySource::kCluster) refresher_->Adopt(view);
  }
  if (policy != nullptr) {
    if (policy->log_level != policy_->log_level) {
      SP_LOG(kInfo) << "log level is now " << LogLevelName(policy->log_level);
    }
    SetLogLevel(policy->log_level);
    policy_ = policy;
  }
  if (workers_.empty()) {
    if (done) done();
    return;
  }
  // Each worker counts down once it applied; the last one runs `done`.
  auto remaining = std::make_shared<std::atomic<size_t>>(workers_.size());
  auto finished = std::make_shared<std::function<void()>>(std::move(done));
  for (ConfigTarget* worker : workers_) {
    if (view != nullptr) worker->InstallView(view);
    // The policy goes even when unchanged: its `applied` callback is the worker's receipt.
    worker->InstallPolicy(policy_, [remaining, finished] {
      if (remaining->fetch_sub(1) == 1 && *finished) (*finished)();
    });
  }
}

void ConfigApplier::ConfirmView(ClusterViewPtr view, TopologySource source) {
  std::lock_guard<std::mutex> lock(mu_);
  if (view == nullptr) return;
  view_source_ = source;
  if (view_ != nullptr && view_->SameTopology(*view)) return;
  view_ = view;
  if (refresher_ != nullptr && source != TopologySource::kCluster) refresher_->Adopt(view);
  for (ConfigTarget* worker : workers_) worker->InstallView(view);
}

void ConfigApplier::InstallDiscoveredView(ClusterViewPtr view) {
  std::lock_guard<std::mutex> lock(mu_);
  if (control_owns_topology_) return;
  InstallLocked(std::move(view), TopologySource::kCluster, nullptr, nullptr);
}

void ConfigApplier::set_control_owns_topology(bool owns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (owns == control_owns_topology_) return;
  control_owns_topology_ = owns;
  SP_LOG(kInfo) << (owns ? "the control plane delivers the topology; discovery paused"
                         : "discovering the topology from the cluster until the control plane "
                           "is back");
  if (refresher_ == nullptr) return;
  refresher_->SetPaused(owns);
  if (!owns) refresher_->RequestRefresh();
}

bool ConfigApplier::control_owns_topology() const {
  std::lock_guard<std::mutex> lock(mu_);
  return control_owns_topology_;
}

absl::Status ConfigApplier::SetOptions(
    const std::vector<std::pair<std::string, std::string>>& options, std::function<void()> done) {
  std::lock_guard<std::mutex> lock(mu_);
  auto policy = std::make_shared<ProxyPolicy>(*policy_);
  for (const auto& [name, value] : options) {
    if (absl::Status s = SetPolicyOption(policy.get(), name, value); !s.ok()) return s;
  }
  policy->version = policy_->version + 1;
  SP_LOG(kInfo) << "policy version " << policy->version << " set by PROXY CONFIG SET";
  InstallLocked(nullptr, TopologySource::kNone, std::move(policy), std::move(done));
  return absl::OkStatus();
}

ProxyPolicyPtr ConfigApplier::policy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policy_;
}

ClusterViewPtr ConfigApplier::view() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}

TopologySource ConfigApplier::view_source() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_source_;
}

}  // namespace slotplane::dataplane
