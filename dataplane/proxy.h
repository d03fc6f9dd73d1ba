#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/metrics.h"
#include "dataplane/proxy_config.h"
#include "dataplane/proxy_context.h"
#include "dataplane/router/topology_refresher.h"
#include "dataplane/worker.h"

namespace slotplane::dataplane {

// The whole slotplane-proxy process: the workers and the topology refresher that feeds them.
class Proxy {
 public:
  explicit Proxy(ProxyOptions options);
  ~Proxy();

  // Discovers the cluster (a failure is logged, not fatal: the refresher keeps trying and clients
  // get CLUSTERDOWN meanwhile), opens the listeners and starts every thread. Fails when a
  // listener cannot be opened.
  absl::Status Start();
  // Stops and joins every thread.
  void Stop();

  ProxyContext& context() { return context_; }

 private:
  void PublishView(ClusterViewPtr view);

  ProxyContext context_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<TopologyRefresher> refresher_;
  std::shared_ptr<ProxyMetrics> metrics_;  // the exposer holds it weakly
  std::unique_ptr<prometheus::Exposer> metrics_server_;
  bool started_ = false;
};

}  // namespace slotplane::dataplane
