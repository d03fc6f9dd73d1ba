#include "controlplane/discovery/topology_poller.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/topology_discovery.h"

namespace slotplane::control {

void TopologyPoller::Start() {
  thread_ = std::thread([this] { Run(); });
}

void TopologyPoller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  done_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TopologyPoller::RequestRefresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (requested_) return;
    requested_ = true;
  }
  wake_.notify_one();
}

void TopologyPoller::SetActive(bool active) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_ == active) return;
    active_ = active;
    requested_ = active;  // a new leader polls at once
  }
  wake_.notify_all();
}

bool TopologyPoller::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

TopologyPoller::RefreshResult TopologyPoller::RefreshNow(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!active_) {
    RefreshResult result;
    result.status = absl::FailedPreconditionError(
        "this control-plane replica is not the leader; the leader polls the topology");
    return result;
  }
  // The poll that starts after this request is the one whose result counts.
  const uint64_t wanted = status_.completed + (running_ ? 2 : 1);
  requested_generation_ = std::max(requested_generation_, wanted);
  requested_ = true;
  wake_.notify_one();
  const bool finished = done_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                       [&] { return stop_ || status_.completed >= wanted; });
  RefreshResult result;
  if (!finished || stop_) {
    result.status = absl::DeadlineExceededError("the topology refresh did not finish in time");
  } else if (!status_.last_error.empty()) {
    result.status = absl::UnavailableError(status_.last_error);
  } else {
    result.changed = last_changed_;
  }
  return result;
}

PollStatus TopologyPoller::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void TopologyPoller::Run() {
  absl::Time last_start = absl::InfinitePast();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // Sleep until the interval is up, or a request comes and the gap since the last start is.
    const absl::Time next_periodic = last_start + options_.interval;
    while (!stop_) {
      if (!active_) {  // a follower: wait to become the leader
        wake_.wait(lock);
        last_start = absl::InfinitePast();
        continue;
      }
      const absl::Time now = absl::Now();
      if (now >= next_periodic) break;
      if (requested_ && now >= last_start + options_.min_gap) break;
      const absl::Time until = requested_ ? last_start + options_.min_gap : next_periodic;
      wake_.wait_for(lock, absl::ToChronoNanoseconds(until - now));
    }
    if (stop_) break;
    requested_ = false;
    running_ = true;
    last_start = absl::Now();
    lock.unlock();
    absl::StatusOr<bool> changed = PollOnce();
    // Nodes no longer in the topology (nor configured) keep no connection; the rest are reused.
    connections_.Retain(Seeds());
    lock.lock();
    running_ = false;
    Record(changed);
    done_.notify_all();
  }
}

absl::StatusOr<bool> TopologyPoller::PollOnce() {
  DiscoveryOptions discovery;
  discovery.seeds = Seeds();
  discovery.connect_timeout = options_.connect_timeout;
  discovery.io_timeout = options_.connect_timeout;
  discovery.tls = options_.tls;
  const v1::BackendCredentials credentials = state_->BackendCredentials();
  if (!credentials.password().empty()) {
    discovery.auth_user = credentials.user();
    discovery.auth_password = credentials.password();
  } else {
    discovery.auth_user = options_.auth_user;
    discovery.auth_password = options_.auth_password;
  }
  discovery.connections = &connections_;
  metrics_->topology_refreshes.Increment();
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(discovery);
  if (!view.ok()) {
    metrics_->topology_refresh_errors.Increment();
    if (Status().completed == 0) state_->PublishStored();
    return view.status();
  }
  // A cluster that answers with no slot at all is being created or reset; proxies keep what
  // they have rather than get an empty slot map.
  if ((*view)->CoveredSlotCount() == 0) {
    metrics_->topology_refresh_errors.Increment();
    return absl::UnavailableError("the cluster reports no slots assigned");
  }
  return state_->SetTopology(*view);
}

void TopologyPoller::Record(const absl::StatusOr<bool>& changed) {
  ++status_.completed;
  last_changed_ = changed.ok() && *changed;
  if (changed.ok()) {
    if (!status_.last_error.empty()) {
      SP_LOG(kSuccess) << "topology discovery works again";
    }
    status_.refreshed_unix_ms = absl::ToUnixMillis(absl::Now());
    status_.last_error.clear();
    return;
  }
  // Log a failure when it starts or changes, not on every poll while it lasts.
  const std::string error(changed.status().message());
  if (error != status_.last_error) {
    SP_LOG(kWarning) << "topology discovery failed: " << error;
  }
  status_.last_error = error;
}

std::vector<NodeAddress> TopologyPoller::Seeds() const {
  std::vector<NodeAddress> seeds;
  auto add = [&seeds](const NodeAddress& address) {
    if (std::find(seeds.begin(), seeds.end(), address) == seeds.end()) seeds.push_back(address);
  };
  if (ClusterViewPtr view = state_->Topology(); view != nullptr) {
    for (const ClusterNode* node : view->AllNodes()) {
      if (node->health == NodeHealth::kOnline && !node->address.host.empty()) add(node->address);
    }
  }
  for (const NodeAddress& seed : options_.seeds) add(seed);
  return seeds;
}

}  // namespace slotplane::control
