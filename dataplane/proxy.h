#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/control/config_applier.h"
#include "dataplane/control/topology_refresher.h"
#include "dataplane/core/proxy_config.h"
#include "dataplane/core/proxy_context.h"
#include "dataplane/metrics.h"
#include "dataplane/worker.h"
#include "slotplane/v1/config.pb.h"

namespace slotplane::dataplane {

class ControlClient;

// The whole slotplane-proxy process: the workers, the topology refresher that feeds them when
// standalone (or while the control plane is away), and the control-plane client.
class Proxy {
 public:
  explicit Proxy(ProxyOptions options);
  ~Proxy();

  // With a control plane: installs the cached snapshot, if any, and waits briefly for the
  // control plane's first snapshot. Without one (or when neither gave a topology), discovers the
  // cluster (a failure is logged, not fatal: the refresher keeps trying and clients get
  // CLUSTERDOWN meanwhile). Opens the listeners and starts every thread. Fails when a listener
  // cannot be opened or a control-plane file (token, TLS) cannot be read.
  absl::Status Start();
  // Reads the TLS certificates, keys and CAs again (SIGHUP): new client connections and new
  // connections to cluster nodes use them, open ones keep theirs. On an error the old ones stay
  // and the error is logged. Thread-safe.
  void ReloadTls();
  // Stops and joins every thread.
  void Stop();

  ProxyContext& context() { return context_; }

 private:
  absl::Status StartControlClient();
  // The TLS contexts the options ask for, made from the files as they are now.
  absl::Status LoadTls(SslContextPtr* server, SslContextPtr* client) const;
  // SIGTERM's drain: /readyz turns 503, the workers stop accepting and close each client once
  // its in-flight requests are answered; returns when none is left or after shutdown-timeout.
  void Drain();
  // Closes the `unixsocket` listener and removes its file (nothing when there is none).
  void CloseUnixListener();
  v1::ProxyStats CollectStats() const;

  ProxyContext context_;
  std::unique_ptr<ConfigApplier> applier_;
  std::unique_ptr<ControlClient> control_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<TopologyRefresher> refresher_;
  std::shared_ptr<ProxyMetrics> metrics_;
  std::unique_ptr<MetricsHttpServer> metrics_server_;
  bool started_ = false;
  bool unix_socket_unlinked_ = false;  // the drain removed the unixsocket file
};

}  // namespace slotplane::dataplane
