#include "controlplane/control_server.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_limits.h"
#include "common/logging.h"
#include "controlplane/policy/policy_options.h"
#include "controlplane/policy/users.h"
#include "controlplane/store/file_store.h"
#include "controlplane/watch/snapshot.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace slotplane::control {
namespace {

constexpr absl::Duration kShutdownGrace = absl::Seconds(3);
// Sync admin handlers run on these; the callback API (watch streams, waits) needs none.
constexpr int kMaxSyncThreads = 8;

absl::StatusOr<std::string> ReadPem(const std::string& option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '", option, "': cannot read '", path, "': ", std::strerror(errno)));
  }
  std::stringstream data;
  data << in.rdbuf();
  if (data.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '", option, "': '", path, "' is not a PEM file"));
  }
  return data.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const ControlOptions& options) {
  if (options.tls_cert.empty()) return grpc::InsecureServerCredentials();
  auto cert = ReadPem("tls-cert", options.tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadPem("tls-key", options.tls_key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!options.tls_client_ca.empty()) {
    auto ca = ReadPem("tls-client-ca", options.tls_client_ca);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    // Verified when presented; the watch service insists on one, admin clients use the token.
    ssl.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

// gRPC only says that a port could not be added; this finds out why, with the errno text.
absl::Status CheckListenAddress(const std::string& listen) {
  auto address = ParseNodeAddress(listen);
  if (!address.ok()) return address.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(address->port);
  if (int rc = getaddrinfo(address->host.c_str(), port.c_str(), &hints, &result); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot listen on ", listen, ": ", gai_strerror(rc)));
  }
  absl::Status status = absl::OkStatus();
  for (addrinfo* ai = result; ai != nullptr && status.ok(); ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      status = absl::UnavailableError(
          absl::StrCat("cannot listen on ", listen, ": ", std::strerror(errno)));
    }
    close(fd);
  }
  freeaddrinfo(result);
  return status;
}

// replica-id, else hostname:listen-port.
std::string ReplicaId(const ControlOptions& options) {
  if (!options.replica_id.empty()) return options.replica_id;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "localhost");
  absl::StatusOr<NodeAddress> listen = ParseNodeAddress(options.listen);
  return absl::StrCat(host, ":", listen.ok() ? listen->port : 0);
}

v1::Policy InitialPolicy(const ControlOptions& options) {
  v1::Policy policy = DefaultPolicy();
  for (const auto& [name, value] : options.initial_policy) {
    SetPolicyOption(&policy, name, value).IgnoreError();  // validated when parsed
  }
  return policy;
}

}  // namespace

absl::Status ControlServer::LoadCredentials() {
  absl::StatusOr<Credentials> credentials = LoadTokens(options_);
  if (!credentials.ok()) return credentials.status();
  auth_ = std::make_unique<TokenAuth>(std::move(credentials->admin));
  proxy_auth_ = std::make_unique<TokenAuth>(std::move(credentials->proxy));
  return absl::OkStatus();
}

absl::StatusOr<ControlServer::Credentials> ControlServer::LoadTokens(
    const ControlOptions& options) {
  absl::StatusOr<TokenAuth> admin = TokenAuth::Load(kAdminToken, options.admin_token_file);
  if (!admin.ok()) return admin.status();
  absl::StatusOr<TokenAuth> proxy = TokenAuth::Load(kProxyToken, options.proxy_token_file);
  if (!proxy.ok()) return proxy.status();
  // The watch stream carries the backend password and the user digests: never open.
  if (proxy->open() && options.tls_client_ca.empty()) {
    return absl::FailedPreconditionError(
        "the watch stream needs a proxy credential: give proxy-token-file (or "
        "SLOTPLANE_PROXY_TOKEN) and the same token to every proxy (control-plane-proxy-token-file),"
        " or tls-client-ca for client certificates");
  }
  if (!proxy->open() && proxy->SameToken(*admin)) {
    return absl::FailedPreconditionError(
        "the proxy token must differ from the admin token (a proxy must not be able to change "
        "the policy, nor an admin client read the fleet's secrets)");
  }
  return Credentials{*std::move(admin), *std::move(proxy)};
}

absl::Status ControlServer::SaltStoredPasswords() {
  int salted = 0;
  absl::StatusOr<uint64_t> version = state_->EditPolicy(
      [&salted](v1::Policy* policy) {
        salted = SaltLegacyPasswords(policy);
        return absl::OkStatus();
      },
      0, "stored user password digests salted (store of an older slotplane-control)");
  if (!version.ok()) return version.status();
  if (salted > 0) {
    SP_LOG(kInfo) << "salted the password digests of " << salted << " stored users";
  }
  return absl::OkStatus();
}

absl::Status CheckFiles(const ControlOptions& options) {
  const struct {
    const char* option;
    const std::string& path;
  } pems[] = {{"tls-cert", options.tls_cert},
              {"tls-key", options.tls_key},
              {"tls-client-ca", options.tls_client_ca}};
  for (const auto& pem : pems) {
    if (pem.path.empty()) continue;
    if (auto read = ReadPem(pem.option, pem.path); !read.ok()) return read.status();
  }
  return ControlServer::LoadTokens(options).status();
}

absl::Status ControlServer::OpenStore() {
  absl::StatusOr<StoreSpec> spec = ParseStore(options_);
  if (!spec.ok()) return spec.status();
  if (spec->endpoints.empty()) {
    absl::StatusOr<std::unique_ptr<FileStore>> store = FileStore::Open(spec->dir);
    if (!store.ok()) return store.status();
    store_ = *std::move(store);
    return absl::OkStatus();
  }
  EtcdClientOptions etcd;
  etcd.endpoints = spec->endpoints;
  etcd.tls_ca = options_.etcd_tls_ca;
  etcd.tls_cert = options_.etcd_tls_cert;
  etcd.tls_key = options_.etcd_tls_key;
  etcd.user = options_.etcd_user;
  etcd.password_file = options_.etcd_password_file;
  absl::StatusOr<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(std::move(etcd));
  if (!client.ok()) return client.status();
  etcd_client_ = *std::move(client);
  auto store = std::make_unique<EtcdStore>(etcd_client_.get(), options_.etcd_prefix);
  etcd_store_ = store.get();
  store_ = std::move(store);
  return absl::OkStatus();
}

void ControlServer::StartReplication() {
  if (etcd_store_ == nullptr) return;
  ReplicaOptions replica;
  replica.prefix = options_.etcd_prefix;
  replica.id = ReplicaId(options_);
  replica.advertise = options_.advertise.empty() ? options_.listen : options_.advertise;
  replicas_ = std::make_unique<ReplicaSet>(
      etcd_client_.get(), std::move(replica),
      [poller = poller_.get()](bool leader) { poller->SetActive(leader); });
  replicas_->Start();
}

void ControlServer::DescribeControlPlane(v1::GetControlPlaneResponse* response) const {
  response->set_store(store_->Describe());
  if (replicas_ == nullptr) {
    response->set_leader(true);
    return;
  }
  response->set_replica_id(replicas_->options().id);
  response->set_leader(replicas_->leader());
  absl::StatusOr<std::vector<ReplicaInfo>> list = replicas_->List();
  if (!list.ok()) {
    response->set_replicas_error(std::string(list.status().message()));
    return;
  }
  for (const ReplicaInfo& info : *list) {
    v1::ReplicaStatus* replica = response->add_replicas();
    replica->set_replica_id(info.id);
    replica->set_address(info.address);
    replica->set_leader(info.leader);
  }
}

absl::Status ControlServer::Start() {
  if (absl::Status s = LoadCredentials(); !s.ok()) return s;
  if (absl::Status s = OpenStore(); !s.ok()) return s;

  metrics_ = std::make_unique<ControlMetrics>();
  hub_ = std::make_unique<WatchHub>(metrics_.get());
  state_ = std::make_unique<ConfigState>(store_.get(), hub_.get(), metrics_.get(), NewBootId());
  if (absl::Status s = state_->Load(InitialPolicy(options_)); !s.ok()) return s;
  if (etcd_store_ != nullptr) {
    // Every version another replica saves is adopted and published here; until this replica
    // leads (and polls), its proxies get the stored topology.
    etcd_store_->Watch(
        [state = state_.get()](const v1::ProxyConfig& config) { state->Adopt(config); });
    state_->PublishStored();
  }
  if (absl::Status s = SaltStoredPasswords(); !s.ok()) return s;

  PollerOptions poll;
  poll.seeds = options_.cluster;
  poll.interval = absl::Milliseconds(options_.poll_interval_ms);
  poll.min_gap = absl::Milliseconds(options_.refresh_min_gap_ms);
  poll.connect_timeout = absl::Milliseconds(options_.backend_connect_timeout_ms);
  poll.auth_user = options_.auth_user;
  poll.auth_password = options_.auth;
  if (options_.tls_cluster) {
    absl::StatusOr<SslContextPtr> tls = NewTlsClientContext(options_.node_tls);
    if (!tls.ok()) return tls.status();
    poll.tls = *std::move(tls);
  }
  poller_ = std::make_unique<TopologyPoller>(poll, state_.get(), metrics_.get());
  if (etcd_store_ != nullptr) poller_->SetActive(false);  // until elected

  if (absl::Status s = StartGrpc(); !s.ok()) return s;
  poller_->Start();
  StartReplication();

  if (options_.metrics_port != 0) {
    const std::string address = absl::StrCat(options_.metrics_bind, ":", options_.metrics_port);
    auto exposer = StartMetricsServer(address, *metrics_);
    if (!exposer.ok()) return exposer.status();
    exposer_ = *std::move(exposer);
    SP_LOG(kInfo) << "metrics on http://" << address << "/metrics, probes on /healthz, /readyz";
  }
  if (auth_->open()) {
    SP_LOG(kWarning) << "the admin API is open: anyone who reaches " << options_.listen
                     << " can change the fleet's policy (set admin-token-file or "
                        "SLOTPLANE_ADMIN_TOKEN)";
  }
  return absl::OkStatus();
}

absl::Status ControlServer::StartGrpc() {
  auto credentials = ServerCredentials(options_);
  if (!credentials.ok()) return credentials.status();
  if (absl::Status s = CheckListenAddress(options_.listen); !s.ok()) return s;

  WatchContext watch;
  watch.hub = hub_.get();
  watch.metrics = metrics_.get();
  watch.refresh_topology = [poller = poller_.get()] { poller->RequestRefresh(); };
  watch.boot_id = state_->boot_id();
  watch_service_ = std::make_unique<WatchService>(
      watch, WatchCredentials{proxy_auth_.get(), !options_.tls_client_ca.empty()});
  AdminContext admin{state_.get(), poller_.get(), hub_.get(), metrics_.get(), auth_.get(), {}};
  admin.describe_control_plane = [this](v1::GetControlPlaneResponse* response) {
    DescribeControlPlane(response);
  };
  admin_service_ = std::make_unique<AdminService>(std::move(admin));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(options_.listen, *credentials, &bound_port);
  builder.RegisterService(watch_service_.get());
  builder.RegisterService(admin_service_.get());
  // A snapshot travels whole in one message; the proxies accept the same size.
  builder.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  builder.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  // Never share the port with another process (gRPC sets SO_REUSEPORT by default).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Find dead proxies; accept the proxies' own keepalive pings (every 10 s or more).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  grpc::ResourceQuota quota("slotplane-control");
  quota.SetMaxThreads(kMaxSyncThreads);
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound_port == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  SP_LOG(kInfo) << "slotplane-control " << SLOTPLANE_VERSION << " listening on " << options_.listen
                << " ("
                << (options_.tls_cert.empty()        ? "plaintext"
                    : options_.tls_client_ca.empty() ? "TLS"
                                                     : "TLS, client certificates for watch streams")
                << (proxy_auth_->open() ? "" : ", proxy token for watch streams") << "), store "
                << store_->Describe();
  return absl::OkStatus();
}

void ControlServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_ != nullptr) server_->GetHealthCheckService()->SetServingStatus(false);
  if (hub_ != nullptr) {
    hub_->Shutdown(grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane shutting down"));
  }
  // A clean stop revokes the lease: another replica leads at once.
  if (replicas_ != nullptr) replicas_->Stop();
  if (etcd_store_ != nullptr) etcd_store_->StopWatch();
  if (poller_ != nullptr) poller_->Stop();  // also releases RefreshTopology calls
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoMilliseconds(kShutdownGrace));
    server_->Wait();
  }
  exposer_.reset();
}

}  // namespace slotplane::control
