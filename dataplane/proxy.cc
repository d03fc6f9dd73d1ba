#include "dataplane/proxy.h"

#include <unistd.h>

#include <ctime>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "dataplane/control/control_client.h"
#include "dataplane/control/snapshot_convert.h"
#include "dataplane/net/socket.h"
#include "dataplane/net/unix_listener.h"

namespace slotplane::dataplane {
namespace {

// How long start-up waits for the control plane's first snapshot before serving from the cache or
// the proxy's own discovery (the stream keeps trying in the background).
constexpr absl::Duration kFirstSnapshotWait = absl::Seconds(3);

std::string Hostname() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

// Redis's start-up adjustment: raise the soft open-files limit (to the hard one), and when that
// still cannot hold `maxclients` plus the descriptors the process keeps for itself, lower
// maxclients to what fits and say so. Without it, clients beyond the limit make accept() fail
// with EMFILE instead of getting the max-clients error.
void FitMaxClientsToOpenFiles(ProxyOptions* options) {
  RaiseOpenFilesLimit();
  const int64_t limit = OpenFilesLimit();
  if (limit <= 0) return;  // unlimited
  const int threads = options->EffectiveThreads();
  const int64_t possible = MaxClientsForOpenFiles(limit, threads);
  if (options->maxclients <= possible) return;
  SP_LOG(kWarning) << "maxclients " << options->maxclients << " needs "
                   << options->maxclients + (limit - possible)
                   << " open files, but this process may open only " << limit
                   << " (RLIMIT_NOFILE): maxclients reduced to " << possible
                   << "; raise 'ulimit -n' for more clients";
  options->maxclients = static_cast<int>(possible);
}

}  // namespace

Proxy::Proxy(ProxyOptions options) {
  context_.options = std::move(options);
  FitMaxClientsToOpenFiles(&context_.options);
  context_.initial_policy =
      std::make_shared<const ProxyPolicy>(PolicyFromOptions(context_.options));
  context_.start_time_unix = static_cast<int64_t>(time(nullptr));
  applier_ = std::make_unique<ConfigApplier>(context_.initial_policy, nullptr);
  context_.applier = applier_.get();
}

Proxy::~Proxy() { Stop(); }

v1::ProxyStats Proxy::CollectStats() const {
  v1::ProxyStats stats;
  stats.set_connected_clients(static_cast<uint64_t>(std::max<int64_t>(0, context_.clients.load())));
  for (const WorkerContext* w : context_.workers) {
    stats.set_commands_processed(stats.commands_processed() + w->stats().commands_processed.Get());
    stats.set_moved_redirects(stats.moved_redirects() + w->stats().moved_redirects.Get());
    stats.set_ask_redirects(stats.ask_redirects() + w->stats().ask_redirects.Get());
    stats.set_backend_failures(stats.backend_failures() + w->stats().backend_failures.Get());
  }
  return stats;
}

absl::Status Proxy::StartControlClient() {
  const ProxyOptions& options = context_.options;
  auto client_options = ControlClientOptionsFrom(options);
  if (!client_options.ok()) return client_options.status();
  client_options->proxy_id = options.EffectiveProxyId();
  client_options->hostname = Hostname();
  std::string host = options.bind.empty() || options.bind[0] == "0.0.0.0" ? client_options->hostname
                                                                          : options.bind[0];
  const uint16_t port = options.PlainListener() ? options.port : options.tls_port;
  client_options->listen_address = NodeAddress{host, port}.ToString();
  client_options->build_version = SLOTPLANE_VERSION;
  client_options->threads = options.EffectiveThreads();
  control_ = std::make_unique<ControlClient>(*std::move(client_options), options, applier_.get(),
                                             [this] { return CollectStats(); });
  context_.control = control_.get();
  control_->LoadCache();
  control_->Start();
  if (control_->WaitForFirstSnapshot(kFirstSnapshotWait)) return absl::OkStatus();
  ControlStatus status = control_->Status();
  SP_LOG(kWarning) << "no snapshot from the control plane " << options.control_plane << " yet ("
                   << (status.last_stream_error.empty() ? "waiting" : status.last_stream_error)
                   << "); serving from "
                   << (applier_->view() != nullptr ? "the cached snapshot"
                                                   : "the proxy's own discovery")
                   << " meanwhile";
  return absl::OkStatus();
}

absl::Status Proxy::LoadTls(SslContextPtr* server, SslContextPtr* client) const {
  const ProxyOptions& options = context_.options;
  if (options.tls_port != 0) {
    absl::StatusOr<SslContextPtr> ctx = NewTlsServerContext(options.tls);
    if (!ctx.ok()) return ctx.status();
    *server = *std::move(ctx);
  }
  if (options.tls_cluster) {
    absl::StatusOr<SslContextPtr> ctx = NewTlsClientContext(options.tls);
    if (!ctx.ok()) return ctx.status();
    *client = *std::move(ctx);
  }
  return absl::OkStatus();
}

void Proxy::ReloadTls() {
  const ProxyOptions& options = context_.options;
  if (options.tls_port == 0 && !options.tls_cluster) return;
  SslContextPtr server;
  SslContextPtr client;
  if (absl::Status s = LoadTls(&server, &client); !s.ok()) {
    SP_LOG(kWarning) << "TLS reload failed, keeping the certificates in use: " << s.message();
    return;
  }
  for (auto& worker : workers_) worker->InstallTls(server, client);
  if (refresher_ != nullptr) refresher_->SetTls(client);
  SP_LOG(kInfo) << "TLS certificates reloaded; new connections use them";
}

absl::Status Proxy::Start() {
  std::vector<std::string> hosts = context_.options.bind;
  if (hosts.empty()) hosts.push_back("0.0.0.0");
  for (const std::string& host : hosts) {
    if (context_.options.PlainListener()) {
      auto port = ReservePort(host, context_.options.port);
      if (!port.ok()) return port.status();
      context_.options.port = *port;  // resolves port 0 once for every worker
    }
    if (context_.options.tls_port != 0) {
      auto port = ReservePort(host, context_.options.tls_port);
      if (!port.ok()) return port.status();
    }
  }
  if (absl::Status s = LoadTls(&context_.tls_server, &context_.tls_client); !s.ok()) return s;
  const ProxyOptions& options = context_.options;
  if (!options.unixsocket.empty()) {
    auto fd = ListenUnix(options.unixsocket, options.unixsocketperm, options.tcp_backlog);
    if (!fd.ok()) return fd.status();
    context_.unix_listener = *fd;
  }
  if (!options.control_plane.empty()) {
    if (absl::Status s = StartControlClient(); !s.ok()) return s;
  }
  int threads = options.EffectiveThreads();
  context_.io_engine = ResolveIoEngine(options.io_engine);
  context_.recv_ring.buffers = static_cast<uint32_t>(options.io_uring_recv_buffers);
  applier_->AttachWorkers([&](const ProxyPolicyPtr& policy) {
    context_.initial_policy = policy;
    std::vector<ConfigTarget*> created;
    for (int i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, &context_));
      context_.workers.push_back(&workers_.back()->context());
      created.push_back(workers_.back().get());
    }
    return created;
  });
  for (auto& worker : workers_) {
    if (absl::Status s = worker->Listen(); !s.ok()) return s;
  }
  DiscoveryOptions discovery;
  discovery.seeds = options.entry_points;
  discovery.auth_user = options.auth_user;
  discovery.auth_password = options.auth;
  discovery.connect_timeout = absl::Milliseconds(options.backend_connect_timeout_ms);
  discovery.io_timeout = absl::Milliseconds(options.backend_connect_timeout_ms);
  discovery.tls = context_.tls_client;
  refresher_ = std::make_unique<TopologyRefresher>(
      discovery, options.topology_refresh_interval_ms,
      [this](ClusterViewPtr view, uint64_t) { applier_->InstallDiscoveredView(std::move(view)); });
  context_.refresher = refresher_.get();
  if (control_ != nullptr) {
    refresher_->OnRequestWhilePaused(
        [control = control_.get()] { control->RequestTopologyRefresh(); });
  }
  applier_->set_refresher(refresher_.get());
  if (applier_->view() == nullptr && !options.entry_points.empty() && !refresher_->RefreshNow()) {
    SP_LOG(kWarning) << "no cluster entry point answered yet; serving CLUSTERDOWN until one does";
  }
  if (options.metrics_port != 0) {
    std::string address = options.metrics_bind + ":" + std::to_string(options.metrics_port);
    metrics_ = std::make_shared<ProxyMetrics>(&context_);
    auto server = StartMetricsServer(address, metrics_, &context_);
    if (!server.ok()) return server.status();
    metrics_server_ = std::move(*server);
    SP_LOG(kInfo) << "metrics on http://" << address << "/metrics, probes on /healthz, /readyz";
  }
  for (auto& worker : workers_) worker->Start();
  context_.serving = true;
  refresher_->Start();
  // A cached topology may be stale: check it against the cluster now, unless the control plane
  // answered meanwhile.
  if (applier_->view_source() == TopologySource::kCache && !applier_->control_owns_topology()) {
    refresher_->RequestRefresh();
  }
  started_ = true;
  SP_LOG(kSuccess) << "slotplane-proxy " << SLOTPLANE_VERSION << " ready on "
                   << (options.PlainListener() ? "port " + std::to_string(options.port) : "")
                   << (options.PlainListener() && options.tls_port != 0 ? ", " : "")
                   << (options.tls_port != 0 ? "TLS port " + std::to_string(options.tls_port) : "")
                   << (options.unixsocket.empty() ? "" : ", unix socket " + options.unixsocket)
                   << (options.tls_cluster ? " (TLS to the cluster)" : "") << " with " << threads
                   << " worker threads (io engine " << IoEngineName(context_.io_engine) << ")"
                   << (options.control_plane.empty() ? std::string()
                                                     : ", control plane " + options.control_plane);
  return absl::OkStatus();
}

void Proxy::Drain() {
  context_.draining = true;
  // No new unix-socket client can find the file from here on; the fd closes once the workers
  // that watch it have stopped (Stop).
  dataplane::CloseUnixListener(-1, context_.options.unixsocket);
  unix_socket_unlinked_ = true;
  for (auto& worker : workers_) worker->Drain();
  const absl::Time deadline = absl::Now() + absl::Seconds(context_.options.shutdown_timeout);
  auto all_drained = [&] {
    for (const auto& worker : workers_) {
      if (!worker->drained()) return false;
    }
    return true;
  };
  while (!all_drained() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  if (all_drained()) {
    SP_LOG(kInfo) << "drained: every client finished its requests";
  } else {
    SP_LOG(kWarning) << "shutdown-timeout (" << context_.options.shutdown_timeout
                     << " s) reached with " << context_.clients.load()
                     << " client(s) still waiting for replies; closing them";
  }
}

void Proxy::Stop() {
  if (started_) Drain();
  // The control client first: its pending replies are handed to workers that still run.
  if (control_ != nullptr) control_->Stop();
  if (!started_) {
    CloseUnixListener();  // a Start() that failed after opening it
    return;
  }
  started_ = false;
  context_.serving = false;
  metrics_server_.reset();
  refresher_->Stop();
  for (auto& worker : workers_) worker->Stop();
  for (auto& worker : workers_) worker->Join();
  applier_->AttachWorkers([](const ProxyPolicyPtr&) { return std::vector<ConfigTarget*>(); });
  context_.control = nullptr;
  control_.reset();
  workers_.clear();
  context_.workers.clear();
  CloseUnixListener();
}

void Proxy::CloseUnixListener() {
  if (context_.unix_listener < 0) return;
  // Not unlinked twice: after the drain's unlink, the path may already be a new proxy's socket
  // (a restart that did not wait for this one to exit).
  dataplane::CloseUnixListener(context_.unix_listener,
                               unix_socket_unlinked_ ? "" : context_.options.unixsocket);
  context_.unix_listener = -1;
}

}  // namespace slotplane::dataplane
