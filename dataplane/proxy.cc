#include "dataplane/proxy.h"

#include <ctime>

#include "common/logging.h"
#include "dataplane/net/socket.h"

namespace slotplane::dataplane {

Proxy::Proxy(ProxyOptions options) {
  context_.options = std::move(options);
  context_.initial_policy =
      std::make_shared<const ProxyPolicy>(PolicyFromOptions(context_.options));
  context_.start_time_unix = static_cast<int64_t>(time(nullptr));
}

Proxy::~Proxy() { Stop(); }

void Proxy::PublishView(ClusterViewPtr view) {
  for (auto& worker : workers_) worker->InstallView(view);
}

absl::Status Proxy::Start() {
  std::vector<std::string> hosts = context_.options.bind;
  if (hosts.empty()) hosts.push_back("0.0.0.0");
  for (const std::string& host : hosts) {
    auto port = ReservePort(host, context_.options.port);
    if (!port.ok()) return port.status();
    context_.options.port = *port;  // resolves port 0 once for every worker
  }
  const ProxyOptions& options = context_.options;
  int threads = options.EffectiveThreads();
  for (int i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, &context_));
    context_.workers.push_back(workers_.back().get());
  }
  for (auto& worker : workers_) {
    if (absl::Status s = worker->Listen(); !s.ok()) return s;
  }
  DiscoveryOptions discovery;
  discovery.seeds = options.entry_points;
  discovery.auth_user = options.auth_user;
  discovery.auth_password = options.auth;
  discovery.connect_timeout = absl::Milliseconds(options.backend_connect_timeout_ms);
  discovery.io_timeout = absl::Milliseconds(options.backend_connect_timeout_ms);
  refresher_ = std::make_unique<TopologyRefresher>(
      discovery, options.topology_refresh_interval_ms,
      [this](ClusterViewPtr view, uint64_t) { PublishView(std::move(view)); });
  context_.refresher = refresher_.get();
  if (!refresher_->RefreshNow()) {
    SP_LOG(kWarning) << "no cluster entry point answered yet; serving CLUSTERDOWN until one does";
  }
  if (options.metrics_port != 0) {
    std::string address = options.metrics_bind + ":" + std::to_string(options.metrics_port);
    metrics_ = std::make_shared<ProxyMetrics>(&context_);
    auto server = StartMetricsServer(address, metrics_);
    if (!server.ok()) return server.status();
    metrics_server_ = std::move(*server);
    SP_LOG(kInfo) << "metrics on http://" << address << "/metrics";
  }
  for (auto& worker : workers_) worker->Start();
  refresher_->Start();
  started_ = true;
  SP_LOG(kSuccess) << "slotplane-proxy " << SLOTPLANE_VERSION << " ready on port " << options.port
                   << " with " << threads << " worker threads";
  return absl::OkStatus();
}

void Proxy::Stop() {
  if (!started_) return;
  started_ = false;
  metrics_server_.reset();
  refresher_->Stop();
  for (auto& worker : workers_) worker->Stop();
  for (auto& worker : workers_) worker->Join();
  workers_.clear();
  context_.workers.clear();
}

}  // namespace slotplane::dataplane
