#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/metrics_http.h"
#include "grpcpp/support/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace slotplane::control {

// Every plain counter of slotplane-control: name (without the slotplane_control_ prefix and the
// _total suffix) and help. Declared once so that names and fields cannot drift.
#define SLOTPLANE_CONTROL_COUNTERS(X)                                                       \
  X(streams_opened, "Watch streams opened by proxies")                                      \
  X(versions_published, "Versions (topology and policy) published to the watch streams")    \
  X(snapshots_sent, "Snapshots written to watch streams (one per stream per version)")      \
  X(acks, "ACKs received from proxies")                                                     \
  X(moved_reports, "MOVED reports received from proxies")                                   \
  X(refresh_requests, "Topology refreshes asked for by proxies holding requests")           \
  X(topology_refreshes, "Topology discoveries run")                                         \
  X(topology_refresh_errors, "Topology discoveries that failed (no node answered)")         \
  X(topology_changes, "Topology changes found (each makes a new version)")                  \
  X(policy_updates, "Policy and user changes accepted (each makes a new version)")          \
  X(store_writes, "Writes of the state to the store")                                       \
  X(store_write_errors, "Failed writes of the state to the store")                          \
  X(streams_refused, "Watch streams refused (proxy credential missing or wrong, id taken)") \
  X(snapshots_too_large, "Snapshots not sent: larger than the proxy receives (its NACK)")

#define SLOTPLANE_CONTROL_GAUGES(X)                                             \
  X(streams_connected, "Watch streams open now")                                \
  X(proxies_connected, "Watch streams whose proxy said Hello, open now")        \
  X(version, "Current version (topology and policy)")                           \
  X(topology_shards, "Shards in the current topology")                          \
  X(topology_slots_covered, "Hash slots with a master in the current topology") \
  X(snapshot_bytes, "Size of the current serialized snapshot, shared by every stream")

// Why a proxy rejected a snapshot: the label of slotplane_control_nacks_total, a fixed set.
enum class NackReason { kTopology, kPolicy, kTooLarge, kOther };
constexpr int kNackReasonCount = 4;
const char* NackReasonName(NackReason reason);
// Classifies the error text of a proxy's NACK: slotplane-proxy prefixes its errors with
// "topology: " or "policy: " (dataplane/control/snapshot_convert.cc); anything else is kOther.
NackReason ClassifyNack(const std::string& error);

// The metrics, thread-safe (prometheus-cpp counters and gauges are atomics). Label sets are
// bounded: admin calls are labelled by method (the fixed set of the Admin service) and gRPC
// status code name; NACKs by a fixed set of reasons; the per-proxy acked version by proxy id,
// only for the proxies connected now (a series is removed when its stream ends; ids are at most
// 256 bytes plus "...", see watch/watch_reactor.cc).
class ControlMetrics {
  // Declared (so constructed) first: the metric references below point into it.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  ControlMetrics();

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

#define SLOTPLANE_DECLARE_COUNTER(name, help) prometheus::Counter& name;
  SLOTPLANE_CONTROL_COUNTERS(SLOTPLANE_DECLARE_COUNTER)
#undef SLOTPLANE_DECLARE_COUNTER
#define SLOTPLANE_DECLARE_GAUGE(name, help) prometheus::Gauge& name;
  SLOTPLANE_CONTROL_GAUGES(SLOTPLANE_DECLARE_GAUGE)
#undef SLOTPLANE_DECLARE_GAUGE

  // slotplane_control_admin_calls_total{method, code}.
  void CountAdminCall(const char* method, grpc::StatusCode code);

  // slotplane_control_nacks_total{reason}.
  void CountNack(NackReason reason) { nacks_[static_cast<int>(reason)]->Increment(); }

  // slotplane_control_proxy_acked_version{proxy}: the series of a connected proxy, created at
  // its Hello; release it with RemoveProxy when its stream ends.
  prometheus::Gauge* AddProxy(const std::string& proxy_id);
  void RemoveProxy(prometheus::Gauge* gauge);

  // slotplane_control_fleet_convergence_seconds: see watch/convergence.h.
  void ObserveConvergence(double seconds) { convergence_->Observe(seconds); }

 private:
  prometheus::Family<prometheus::Counter>* admin_calls_;
  prometheus::Counter* nacks_[kNackReasonCount];
  prometheus::Family<prometheus::Gauge>* proxy_acked_;
  prometheus::Histogram* convergence_;
};

// GET /readyz's answer: OK once the published topology has a master for every hash slot (the
// control plane can give proxies a usable snapshot), else why not. Thread-safe.
absl::Status ControlReadiness(const ControlMetrics& metrics);

// Serves GET /metrics (the registry, plus slotplane_control_up), /healthz (liveness) and /readyz
// (ControlReadiness) on `address` ("host:port") on the server's own threads. `metrics` must
// outlive the server.
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsServer(
    const std::string& address, const ControlMetrics& metrics);

// The gRPC status code's canonical name ("OK", "INVALID_ARGUMENT", ...).
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace slotplane::control
