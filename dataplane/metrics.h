#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/core/proxy_context.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

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

// Serves GET /metrics on `address` ("host:port"). The exposer runs its own threads and holds
// `metrics` weakly: the caller keeps it alive.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartMetricsServer(
    const std::string& address, std::shared_ptr<ProxyMetrics> metrics);

}  // namespace slotplane::dataplane
