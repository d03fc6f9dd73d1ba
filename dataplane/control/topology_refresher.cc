#include "dataplane/control/topology_refresher.h"

#include <chrono>

#include "common/logging.h"

namespace slotplane::dataplane {
namespace {
// Redirect storms during a resharding ask for many refreshes; one per this gap is enough.
constexpr int kMinGapMs = 100;
}  // namespace

TopologyRefresher::TopologyRefresher(DiscoveryOptions options, int interval_ms, Listener on_change)
    : options_(std::move(options)), interval_ms_(interval_ms), on_change_(std::move(on_change)) {}

TopologyRefresher::~TopologyRefresher() { Stop(); }

void TopologyRefresher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void TopologyRefresher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TopologyRefresher::RequestRefresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (requested_) return;
    requested_ = true;
  }
  cv_.notify_all();
}

void TopologyRefresher::Adopt(ClusterViewPtr view) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ != nullptr && current_->SameTopology(*view)) return;
    current_ = std::move(view);
  }
  version_.fetch_add(1);
}

void TopologyRefresher::SetPaused(bool paused) { paused_.store(paused); }

ClusterViewPtr TopologyRefresher::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::string TopologyRefresher::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

bool TopologyRefresher::RefreshNow() { return Discover(); }

void TopologyRefresher::SetTls(SslContextPtr tls) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.tls = std::move(tls);
}

// Asks the configured entry points and every node of the current view, so the proxy keeps
// finding the cluster when its entry points die or move.
bool TopologyRefresher::Discover() {
  DiscoveryOptions options;
  {
    std::lock_guard<std::mutex> lock(mu_);
    options = options_;
  }
  ClusterViewPtr previous = current();
  if (previous != nullptr) {
    for (const ClusterNode* node : previous->AllNodes()) {
      bool known = false;
      for (const NodeAddress& seed : options.seeds) known = known || seed == node->address;
      if (!known && node->health != NodeHealth::kFailed) options.seeds.push_back(node->address);
    }
  }
  auto view = DiscoverTopology(options);
  refreshes_.fetch_add(1);
  if (!view.ok()) {
    SP_LOG(kWarning) << "topology refresh failed: " << view.status().message();
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = std::string(view.status().message());
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_.clear();
    if (current_ != nullptr && current_->SameTopology(**view)) return true;
    current_ = *view;
  }
  uint64_t version = version_.fetch_add(1) + 1;
  SP_LOG(kInfo) << "cluster topology version " << version << ": " << (*view)->shards().size()
                << " shards, " << (*view)->CoveredSlotCount() << " slots covered";
  on_change_(*view, version);
  return true;
}

void TopologyRefresher::Loop() {
  auto last = std::chrono::steady_clock::now();
  while (true) {
    bool requested = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, last + std::chrono::milliseconds(interval_ms_),
                     [this] { return stop_ || requested_; });
      if (stop_) return;
      // Keep the gap between two refreshes, so a redirect storm costs one refresh per gap.
      auto earliest = last + std::chrono::milliseconds(kMinGapMs);
      if (std::chrono::steady_clock::now() < earliest) {
        cv_.wait_until(lock, earliest, [this] { return stop_; });
        if (stop_) return;
      }
      requested = requested_;
      requested_ = false;
    }
    last = std::chrono::steady_clock::now();
    if (!paused_.load()) {
      Discover();
    } else if (requested && on_paused_request_) {
      on_paused_request_();
    }
  }
}

}  // namespace slotplane::dataplane
