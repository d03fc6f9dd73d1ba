#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/metrics_http.h"
#include "dataplane/core/proxy_context.h"
#include "prometheus/collectable.h"

namespace slotplane::dataplane {

// Prometheus metrics of a slotplane-proxy, computed at scrape time from the workers' counters
// (plain per-worker integers, summed here) so the request path never touches a metrics library.
// Label sets are bounded: error kinds are a fixed enum, there is no per-key or per-client label.
class ProxyMetrics : public prometheus::Collectable {
 public:
  explicit ProxyMetrics(const ProxyContext* context) : context_(context) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ProxyContext* context_;
};

// GET /readyz's answer: OK when the proxy can serve clients, that is every worker runs and is not
// draining, the topology in force has a master for all 16384 slots and, with a control plane,
// the stream is up or a snapshot (received or cached) was applied. Else why not. Thread-safe.
absl::Status ProxyReadiness(const ProxyContext& context);

// Serves GET /metrics, /healthz and /readyz (ProxyReadiness) on `address` ("host:port") on the
// server's own threads. `context` must outlive the server.
absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsServer(
    const std::string& address, std::shared_ptr<ProxyMetrics> metrics, const ProxyContext* context);

}  // namespace slotplane::dataplane
