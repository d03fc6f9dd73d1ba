#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dataplane/control/config_applier.h"
#include "dataplane/control/control_endpoints.h"
#include "dataplane/control/control_plane.h"
#include "dataplane/core/proxy_config.h"
#include "grpcpp/grpcpp.h"
#include "slotplane/v1/admin.grpc.pb.h"
#include "slotplane/v1/discovery.grpc.pb.h"

namespace slotplane::dataplane {

struct ControlClientOptions {
  // The `control-plane` option: host:port of slotplane-control, or a comma-separated list of its
  // replicas, or a name with one DNS record per replica (ControlPlaneAddresses).
  std::string address;
  std::string token;  // bearer token for the admin API; empty: none
  // Bearer token of the watch stream (the proxy credential, never the admin token); empty: none
  // (enough only when the control plane identifies proxies by client certificate).
  std::string proxy_token;
  // PEM contents; an empty CA means plaintext.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string cache_file;  // empty: no cache
  // What Hello says about this proxy.
  std::string proxy_id;
  std::string hostname;
  std::string listen_address;
  std::string build_version;
  int threads = 1;  // for the maxclients check (see MaxClientsForOpenFiles)

  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  absl::Duration rpc_timeout = absl::Seconds(5);
  // How long PROXY CONFIG SET waits for this proxy to apply the version the control plane made.
  absl::Duration apply_wait = absl::Seconds(10);
  absl::Duration stats_interval = absl::Seconds(5);
  // How host names in `address` are resolved (tests replace it); empty: ResolveHost.
  HostResolver resolver;
};

// Reads the token files (the proxy token from $SLOTPLANE_PROXY_TOKEN without its file) and the
// TLS files named by the options into ControlClientOptions (all but the identity fields). Fails
// naming the file that cannot be read.
absl::StatusOr<ControlClientOptions> ControlClientOptionsFrom(const ProxyOptions& options);

// The proxy's end of the control plane (ProxyDiscovery.Watch and the Admin API).
//
// Threads: the stream thread opens the watch stream (Hello with the version in force), reads
// snapshots, validates and converts them, installs them on every worker through the
// ConfigApplier, waits until every worker applied, writes the cache, then ACKs (or NACKs an
// invalid one and keeps the last good). A snapshot of the version already in force (what a
// replica sends first to a proxy that comes from another replica: control-plane replicas share
// their versions) is acknowledged without being applied again.
//
// Replicas: `address` names one or several (control_endpoints.h; names are resolved again at
// each reconnect). The first stream goes to a random candidate, so a fleet spreads over the
// replicas. When a stream ends or cannot be opened, the next candidate is tried at once; only
// when a whole round of candidates failed does the thread wait, with jittered exponential backoff
// (initial_backoff doubling to max_backoff; with one address exactly as before). Meanwhile the
// topology goes back to the fallback refresher. The report thread writes MOVED reports and
// periodic ProxyStats on the stream and expires waits. The admin thread runs Admin RPCs one at a
// time on the stream's replica, once more on the next candidate when that one is UNAVAILABLE.
// Workers only ever enqueue (ReportMoved) or receive results through their task queues.
class ControlClient : public ControlPlane {
 public:
  using StatsSource = std::function<v1::ProxyStats()>;

  ControlClient(ControlClientOptions options, const ProxyOptions& local, ConfigApplier* applier,
                StatsSource stats);
  ~ControlClient() override;

  // Installs the cached snapshot, if there is a valid one for this control plane. Call before
  // Start(). Returns its version (0: none).
  uint64_t LoadCache();
  void Start();
  // Waits until the first snapshot from the control plane was applied (true), the first attempt
  // to open the stream failed, or `timeout` passed.
  bool WaitForFirstSnapshot(absl::Duration timeout);
  // Cancels the stream and any RPC, fails pending PROXY CONFIG SET waits, joins the threads.
  void Stop();

  // --- ControlPlane ---
  void ReportMoved(uint16_t slot, const NodeAddress& address) override;
  // Asks the control plane for a topology refresh now (the refresher is paused while the control
  // plane delivers the topology, and a worker holds requests for a master it cannot reach).
  // Thread-safe, never blocks; requests made before the report thread sends one are merged.
  void RequestTopologyRefresh();
  ControlStatus Status() const override;
  void UpdatePolicy(std::map<std::string, std::string> options, std::string origin,
                    std::function<void(absl::StatusOr<uint64_t>)> done) override;
  void RefreshTopology(std::function<void(absl::Status)> done) override;
  void ListProxies(std::function<void(absl::StatusOr<FleetListing>)> done) override;

 private:
  // A PROXY CONFIG SET waiting for this proxy to apply `version`.
  struct VersionWait {
    uint64_t version;
    std::chrono::steady_clock::time_point deadline;
    std::function<void(absl::StatusOr<uint64_t>)> done;
  };
  using AdminTask = std::function<void(bool cancelled)>;

  void RunStream();
  // The candidates now (names resolved again), remembered for the admin calls.
  std::vector<ControlEndpoint> Candidates();
  // One stream to `endpoint` from open to end; returns why it ended.
  grpc::Status StreamOnce(const ControlEndpoint& endpoint);
  // The stream to `endpoint` delivered its first snapshot.
  void MarkConnected(const ControlEndpoint& endpoint);
  void HandleSnapshot(const v1::Snapshot& snapshot);
  // True when `snapshot` carries the version in force (then ACKed here, not applied again).
  bool ConfirmUnchanged(const v1::Snapshot& snapshot);
  bool WriteMessage(const v1::ProxyMessage& message);
  void SaveCache(const v1::Snapshot& snapshot);
  void SleepBackoff(int attempt);

  void RunReports();
  void SendStats();
  void FlushReports();
  void ExpireWaits();
  // Completes the waits that `version` satisfies (ok) or rejects (nacked, with `error`).
  void CompleteWaits(uint64_t version, const absl::Status& error);

  void RunAdmin();
  void Enqueue(AdminTask task);
  void AddAuth(grpc::ClientContext* context) const;
  using AdminCall = std::function<grpc::Status(v1::Admin::Stub*, grpc::ClientContext*)>;
  // Runs `call` on the stream's replica with a fresh context (deadline, token) that Stop() can
  // cancel; when that replica is UNAVAILABLE, once more on the next candidate. `*used` is the
  // replica of the last try (for errors).
  grpc::Status CallAdmin(const AdminCall& call, std::string* used);
  grpc::Status CallAdminOn(const ControlEndpoint& endpoint, bool wait_for_ready,
                           const AdminCall& call);
  // The admin stub of `endpoint` (admin thread only; channels are kept per replica).
  v1::Admin::Stub* AdminStub(const ControlEndpoint& endpoint);

  const ControlClientOptions options_;
  const ProxyOptions local_;
  ConfigApplier* const applier_;
  const StatsSource stats_;
  std::vector<NodeAddress> addresses_;  // `address` parsed
  HostResolver resolver_;

  struct AdminChannel {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Admin::Stub> stub;
  };
  std::map<std::string, AdminChannel> admin_channels_;  // by target; admin thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;                     // stop, first snapshot, reports, admin tasks
  bool stopping_ = false;                          // guarded by mu_
  ControlStatus status_;                           // guarded by mu_
  uint64_t applied_version_ = 0;                   // guarded by mu_
  std::string applied_digest_;                     // of its config (ConfigDigest); guarded by mu_
  std::vector<ControlEndpoint> endpoints_;         // the last Candidates(); guarded by mu_
  ControlEndpoint replica_;                        // of the current/last stream; guarded by mu_
  bool first_attempt_done_ = false;                // guarded by mu_
  bool first_snapshot_applied_ = false;            // guarded by mu_
  grpc::ClientContext* stream_context_ = nullptr;  // guarded by mu_
  grpc::ClientContext* admin_context_ = nullptr;   // guarded by mu_
  std::vector<std::pair<uint16_t, NodeAddress>> moved_;  // guarded by mu_
  bool refresh_wanted_ = false;                          // guarded by mu_
  std::vector<VersionWait> waits_;                       // guarded by mu_
  std::deque<AdminTask> admin_tasks_;                    // guarded by mu_

  // The open stream; writes from the stream and report threads are serialized by write_mu_.
  std::mutex write_mu_;
  grpc::ClientReaderWriter<v1::ProxyMessage, v1::ControlMessage>* stream_ = nullptr;

  std::thread stream_thread_;
  std::thread report_thread_;
  std::thread admin_thread_;
};

}  // namespace slotplane::dataplane
