#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/cluster_view.h"
#include "common/topology_discovery.h"

namespace slotplane::dataplane {

// Keeps the proxy's view of the cluster current when it runs without a control plane (or while
// the control plane is unreachable): polls the cluster every `interval_ms`, and sooner when a
// worker asks (MOVED, a lost node). Publishes a
// new version only when the topology really changed. Runs discovery (blocking hiredis calls) on
// its own thread, never on a worker.
class TopologyRefresher {
 public:
  using Listener = std::function<void(ClusterViewPtr view, uint64_t version)>;

  TopologyRefresher(DiscoveryOptions options, int interval_ms, Listener on_change);
  ~TopologyRefresher();

  // One discovery on the calling thread; publishes on success. Used at start-up.
  bool RefreshNow();
  void Start();
  void Stop();

  // Thread-safe and cheap: asks for a refresh soon (at most one per kMinGapMs).
  void RequestRefresh();

  // A topology from elsewhere (the control plane, the snapshot cache) becomes the current one:
  // PROXY INFO shows it and later discoveries ask its nodes. Not published: the caller installed
  // it. Thread-safe.
  void Adopt(ClusterViewPtr view);
  // While paused (the control plane delivers the topology), periodic and requested discoveries
  // are skipped; RefreshNow() still runs. Thread-safe.
  void SetPaused(bool paused);
  // Called on the refresher's thread, at most once per kMinGapMs, for a RequestRefresh() that
  // arrives while paused: whoever delivers the topology (the control plane) is asked instead.
  // Set before Start().
  void OnRequestWhilePaused(std::function<void()> hook) { on_paused_request_ = std::move(hook); }
  // The TLS context of later discoveries (tls-cluster, after a reload). Thread-safe.
  void SetTls(SslContextPtr tls);
  bool paused() const { return paused_.load(); }

  ClusterViewPtr current() const;
  uint64_t version() const { return version_.load(); }
  uint64_t refreshes() const { return refreshes_.load(); }
  std::string last_error() const;

 private:
  void Loop();
  bool Discover();

  DiscoveryOptions options_;
  const int interval_ms_;
  Listener on_change_;
  std::function<void()> on_paused_request_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  bool requested_ = false;  // guarded by mu_
  ClusterViewPtr current_;  // guarded by mu_
  std::string last_error_;  // guarded by mu_
  std::atomic<uint64_t> version_{0};
  std::atomic<uint64_t> refreshes_{0};
  std::atomic<bool> paused_{false};
  std::thread thread_;
};

}  // namespace slotplane::dataplane
