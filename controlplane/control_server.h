#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/daemon.h"
#include "controlplane/admin/admin_service.h"
#include "controlplane/auth/token_auth.h"
#include "controlplane/discovery/topology_poller.h"
#include "controlplane/metrics/metrics.h"
#include "controlplane/options.h"
#include "controlplane/replicas/replica_set.h"
#include "controlplane/state/config_state.h"
#include "controlplane/store/etcd_client.h"
#include "controlplane/store/etcd_store.h"
#include "controlplane/store/policy_store.h"
#include "controlplane/watch/watch_hub.h"
#include "controlplane/watch/watch_service.h"
#include "grpc/grpc.h"
#include "grpcpp/server.h"

namespace slotplane::control {

// --check-config: reads the files Start() would (TLS certificate, key and client CA, the admin
// and proxy tokens) and checks them as Start() does, without opening a socket or the store.
absl::Status CheckFiles(const ControlOptions& options);

// slotplane-control: the store, the versioned state, the topology poller, the gRPC server with
// the ProxyDiscovery and Admin services (plus grpc.health.v1.Health), and /metrics. Start() and
// Stop() are called from the main thread; everything else runs on gRPC's threads, the poller's
// thread and the metrics server's. It holds the process's gRPC runtime: destroying it shuts gRPC
// down blocking, so that no background thread of gRPC outlives it.
class ControlServer final : public Service {
 public:
  explicit ControlServer(ControlOptions options) : options_(std::move(options)) {}
  ~ControlServer() override { Stop(); }
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // The admin and proxy tokens as the options give them; fails when the watch stream would have
  // no credential or the two tokens are the same (Start() and --check-config).
  struct Credentials {
    TokenAuth admin;
    TokenAuth proxy;
  };
  static absl::StatusOr<Credentials> LoadTokens(const ControlOptions& options);

  // Fails with a message for the operator (bad TLS files, a port in use, a damaged store, ...).
  absl::Status Start() override;
  // Ends every watch stream (UNAVAILABLE, so proxies reconnect elsewhere or later) and waiting
  // call, lets running admin calls finish (bounded), stops polling. Idempotent.
  void Stop() override;

 private:
  // grpc_init() for the server's lifetime, grpc_shutdown_blocking() after everything else.
  struct GrpcRuntime {
    GrpcRuntime() { grpc_init(); }
    ~GrpcRuntime() { grpc_shutdown_blocking(); }
  };

  absl::Status StartGrpc();
  // LoadTokens into auth_ and proxy_auth_.
  absl::Status LoadCredentials();
  // The store the options name: a FileStore, or an EtcdStore (with etcd_client_).
  absl::Status OpenStore();
  // Several replicas on etcd: adopt what others save, take part in the leader election (only
  // the leader polls the topology).
  void StartReplication();
  // GetControlPlane's answer: the store, this replica, the replicas in etcd.
  void DescribeControlPlane(v1::GetControlPlaneResponse* response) const;
  // Salts the unsalted user digests a store of an older version holds (a new version).
  absl::Status SaltStoredPasswords();

  const GrpcRuntime grpc_runtime_;  // first: constructed first, destroyed last
  const ControlOptions options_;
  std::unique_ptr<ControlMetrics> metrics_;
  std::unique_ptr<TokenAuth> auth_;          // the admin token
  std::unique_ptr<TokenAuth> proxy_auth_;    // the watch stream's token
  std::unique_ptr<EtcdClient> etcd_client_;  // etcd store only
  EtcdStore* etcd_store_ = nullptr;          // store_ when it is an EtcdStore
  std::unique_ptr<PolicyStore> store_;
  std::unique_ptr<WatchHub> hub_;
  std::unique_ptr<ConfigState> state_;
  std::unique_ptr<TopologyPoller> poller_;
  std::unique_ptr<ReplicaSet> replicas_;  // etcd store only
  std::unique_ptr<WatchService> watch_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsHttpServer> exposer_;
  bool stopped_ = false;
};

}  // namespace slotplane::control
