#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prometheus/collectable.h"

struct mg_context;
struct mg_connection;

// The HTTP endpoint of a slotplane daemon (slotplane-proxy's and slotplane-control's metrics
// port), an embedded civetweb server on its own threads:
//   GET /metrics  the collectables in Prometheus's text format (version 0.0.4);
//   GET /healthz  200 "ok" while the process serves HTTP at all (liveness);
//   GET /readyz   200 "ready", or 503 with the reason the readiness check gave (readiness).
// prometheus::Exposer cannot answer anything but 200 with a metrics body, which a readiness
// probe needs; this server does what it did for /metrics and adds the two probes.
namespace slotplane {

class MetricsHttpServer {
 public:
  // OK when the daemon is ready for traffic; else a status whose message says why not (shown in
  // the 503 body, so it must hold no secret). Called on the server's threads, concurrently.
  using Readiness = std::function<absl::Status()>;

  // Listens on `address` ("host:port", "[v6]:port"; port 0 picks a free one) and serves until
  // destroyed. Fails when the address cannot be listened on, with civetweb's reason.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables, Readiness readiness);

  // Stops the threads; no handler runs after it returns.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The port listened on (the chosen one when started with port 0).
  int port() const { return port_; }

 private:
  MetricsHttpServer(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                    Readiness readiness)
      : collectables_(std::move(collectables)), readiness_(std::move(readiness)) {}

  static int HandleMetrics(mg_connection* conn, void* self);
  static int HandleHealthz(mg_connection* conn, void* self);
  static int HandleReadyz(mg_connection* conn, void* self);

  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  const Readiness readiness_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace slotplane
