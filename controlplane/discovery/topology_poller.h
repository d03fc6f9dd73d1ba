#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/cluster_view.h"
#include "common/node_connection_pool.h"
#include "common/tls_config.h"
#include "controlplane/metrics/metrics.h"
#include "controlplane/state/config_state.h"

namespace slotplane::control {

struct PollerOptions {
  std::vector<NodeAddress> seeds;  // the configured entry points
  absl::Duration interval = absl::Seconds(1);
  // Refreshes asked for (MOVED reports, RefreshTopology) start at least this far apart.
  absl::Duration min_gap = absl::Milliseconds(200);
  absl::Duration connect_timeout = absl::Seconds(1);
  // Used when the policy has no backend credentials.
  std::string auth_user;
  std::string auth_password;
  // tls-cluster: the nodes are polled over TLS with this client context. Null: TCP.
  SslContextPtr tls = nullptr;
};

// What the last discovery found.
struct PollStatus {
  int64_t refreshed_unix_ms = 0;  // last successful discovery (0: none yet)
  std::string last_error;         // of the last discovery; empty when it succeeded
  uint64_t completed = 0;         // discoveries run so far
};

// Polls the cluster on its own thread (common/topology_discovery: CLUSTER SHARDS, falling back
// to CLUSTER SLOTS, skipping dead nodes) every `interval`, and sooner when asked; hands each
// result to ConfigState, which makes a new version only on a real change. Seeds are the nodes
// of the last topology that were online, then the configured entry points, so a cluster whose
// original entry points are gone is still found. Nodes are asked on connections kept from one
// poll to the next (at most one per node; reconnected when one fails; closed when its node
// leaves the seeds), not on a new TCP connection per poll.
class TopologyPoller {
 public:
  TopologyPoller(PollerOptions options, ConfigState* state, ControlMetrics* metrics)
      : options_(std::move(options)), state_(state), metrics_(metrics) {}
  ~TopologyPoller() { Stop(); }
  TopologyPoller(const TopologyPoller&) = delete;
  TopologyPoller& operator=(const TopologyPoller&) = delete;

  void Start();
  void Stop();

  // Asks for a refresh soon (a MOVED report). Never blocks; requests within min_gap of the last
  // refresh are merged into the next one.
  void RequestRefresh();

  struct RefreshResult {
    absl::Status status;  // the discovery's error, if it failed
    bool changed = false;
  };
  // Runs a refresh (on the poller thread) and waits for its result, at most `timeout`.
  RefreshResult RefreshNow(absl::Duration timeout);

  PollStatus Status() const;

  // Several replicas on a shared store: only the leader polls. An inactive poller sleeps (its
  // refresh requests are dropped and RefreshNow fails with FailedPrecondition) until made active
  // again, when it polls at once. Active by default.
  void SetActive(bool active);
  bool active() const;

 private:
  void Run();
  // One discovery and its hand-over to ConfigState; returns whether the topology changed.
  absl::StatusOr<bool> PollOnce();
  std::vector<NodeAddress> Seeds() const;
  // Updates status_ with a poll's outcome (mu_ held).
  void Record(const absl::StatusOr<bool>& changed);

  const PollerOptions options_;
  ConfigState* const state_;
  ControlMetrics* const metrics_;

  mutable std::mutex mu_;
  std::condition_variable wake_;  // the poller: a request or stop
  std::condition_variable done_;  // RefreshNow callers: a poll completed
  bool stop_ = false;
  bool active_ = true;
  bool requested_ = false;
  bool running_ = false;               // a discovery is in progress
  uint64_t requested_generation_ = 0;  // highest poll number a caller waits for
  PollStatus status_;
  bool last_changed_ = false;
  NodeConnectionPool connections_;  // the poller thread's only
  std::thread thread_;
};

}  // namespace slotplane::control
