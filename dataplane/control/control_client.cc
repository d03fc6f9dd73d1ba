#include "dataplane/control/control_client.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_limits.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "dataplane/control/snapshot_cache.h"
#include "dataplane/control/snapshot_convert.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace slotplane::dataplane {
namespace {

using Clock = std::chrono::steady_clock;

// Keepalive pings no more often than servers accept by default (gRPC's 5 minute minimum), so a
// silently vanished control plane is noticed without the server ever objecting.
constexpr int kKeepaliveTimeMs = 300000;
constexpr int kKeepaliveTimeoutMs = 20000;
constexpr int kAdminMaxReconnectBackoffMs = 5000;
constexpr size_t kMaxAdminChannels = 16;
constexpr size_t kMaxQueuedMovedReports = 64;
constexpr auto kStopPollInterval = std::chrono::milliseconds(100);

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

constexpr char kProxyTokenEnv[] = "SLOTPLANE_PROXY_TOKEN";

// The token in `path` (whitespace trimmed), else in the environment variable `env` (when given),
// else empty. An empty file is an error.
absl::StatusOr<std::string> ReadToken(const std::string& path, const char* option,
                                      const char* env) {
  if (path.empty()) {
    const char* value = env[0] != '\0' ? std::getenv(env) : nullptr;
    return value == nullptr ? "" : std::string(absl::StripAsciiWhitespace(value));
  }
  auto token = ReadFile(path, option);
  if (!token.ok()) return token.status();
  std::string trimmed(absl::StripAsciiWhitespace(*token));
  if (trimmed.empty())
    return absl::InvalidArgumentError(absl::StrCat(option, " ", path, " is empty"));
  return trimmed;
}

// Why the watch stream ended, with what to check for the errors an operator can fix.
std::string StreamEndReason(const grpc::Status& status) {
  if (status.ok()) return "closed";
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::StrCat(status.error_message(),
                          " (check control-plane-proxy-token-file or SLOTPLANE_PROXY_TOKEN, and "
                          "the client certificate)");
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::StrCat(status.error_message(), " (this proxy receives messages of up to ",
                          kMaxGrpcMessageBytes, " bytes)");
    default:
      return status.error_message();
  }
}

Clock::time_point Later(absl::Duration d) {
  return Clock::now() + std::chrono::microseconds(absl::ToInt64Microseconds(d));
}

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

absl::Status FromGrpc(const grpc::Status& status, const std::string& address) {
  std::string message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(absl::StrCat("slotplane: the control plane at ", address,
                                                 " is unreachable (", message, ")"));
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::PermissionDeniedError(
          absl::StrCat("slotplane: the control plane refused this proxy's token (", message,
                       "); check control-plane-token-file"));
    case grpc::StatusCode::CANCELLED:
      return absl::CancelledError("slotplane: the proxy is shutting down");
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()), message);
  }
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(const ControlClientOptions& options) {
  if (options.tls_ca.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls_ca;
  ssl.pem_cert_chain = options.tls_cert;
  ssl.pem_private_key = options.tls_key;
  return grpc::SslCredentials(ssl);
}

// The channel to one replica: with TLS, a target that is a resolved IP is verified against the
// name it came from.
std::shared_ptr<grpc::Channel> ChannelTo(const ControlEndpoint& endpoint,
                                         const ControlClientOptions& options,
                                         grpc::ChannelArguments args) {
  if (!options.tls_ca.empty() && !endpoint.tls_name.empty()) {
    args.SetSslTargetNameOverride(endpoint.tls_name);
  }
  return grpc::CreateCustomChannel(endpoint.target, Credentials(options), args);
}

grpc::ChannelArguments BaseChannelArguments() {
  grpc::ChannelArguments args;
  // A snapshot travels whole in one message; the control plane sends up to the same size.
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
  // Each channel keeps its own subchannels (and their reconnect backoff): the stream's backoff
  // is this class's, not inherited from an earlier channel.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return args;
}

// What a snapshot holds, to tell "the version in force" from a version number that a control
// plane with a new store gave to other content. Deterministic serialization (map entries sorted),
// so equal configs give equal digests whatever process serialized them.
std::string ConfigDigest(const v1::ProxyConfig& config) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    config.SerializeToCodedStream(&coded);
  }
  return Sha256Hex(bytes);
}

// A PROXY CONFIG SET whose version this proxy NACKed.
absl::Status RejectedError(uint64_t version, const std::string& error) {
  return absl::FailedPreconditionError(
      absl::StrCat("slotplane: the control plane accepted the change as version ", version,
                   " but this proxy rejected that version: ", error));
}

}  // namespace

const char* StreamStateName(StreamState state) {
  switch (state) {
    case StreamState::kConnecting:
      return "connecting";
    case StreamState::kConnected:
      return "connected";
    case StreamState::kDisconnected:
      return "disconnected";
  }
  return "disconnected";
}

absl::StatusOr<ControlClientOptions> ControlClientOptionsFrom(const ProxyOptions& options) {
  ControlClientOptions out;
  out.address = options.control_plane;
  out.cache_file = options.control_plane_cache;
  auto admin_token = ReadToken(options.control_plane_token_file, "control-plane-token-file", "");
  if (!admin_token.ok()) return admin_token.status();
  out.token = *std::move(admin_token);
  auto proxy_token = ReadToken(options.control_plane_proxy_token_file,
                               "control-plane-proxy-token-file", kProxyTokenEnv);
  if (!proxy_token.ok()) return proxy_token.status();
  out.proxy_token = *std::move(proxy_token);
  struct {
    const std::string& path;
    std::string* out;
    const char* what;
  } files[] = {{options.control_plane_tls_ca, &out.tls_ca, "control-plane-tls-ca"},
               {options.control_plane_tls_cert, &out.tls_cert, "control-plane-tls-cert"},
               {options.control_plane_tls_key, &out.tls_key, "control-plane-tls-key"}};
  for (auto& file : files) {
    if (file.path.empty()) continue;
    auto content = ReadFile(file.path, file.what);
    if (!content.ok()) return content.status();
    *file.out = *std::move(content);
  }
  return out;
}

ControlClient::ControlClient(ControlClientOptions options, const ProxyOptions& local,
                             ConfigApplier* applier, StatsSource stats)
    : options_(std::move(options)), local_(local), applier_(applier), stats_(std::move(stats)) {
  absl::StatusOr<std::vector<NodeAddress>> addresses = ControlPlaneAddresses(options_.address);
  if (addresses.ok()) {
    addresses_ = *std::move(addresses);
  } else {
    SP_LOG(kWarning) << addresses.status().message();
  }
  resolver_ = options_.resolver ? options_.resolver : HostResolver(ResolveHost);
  if (options_.proxy_token.empty() && options_.tls_cert.empty()) {
    SP_LOG(kWarning) << "no proxy token (control-plane-proxy-token-file or SLOTPLANE_PROXY_TOKEN) "
                        "and no client certificate: the control plane at "
                     << options_.address << " will refuse the watch stream";
  }
  status_.address = options_.address;
  status_.proxy_id = options_.proxy_id;
  status_.cache_file = options_.cache_file;
}

ControlClient::~ControlClient() { Stop(); }

uint64_t ControlClient::LoadCache() {
  if (options_.cache_file.empty()) return 0;
  auto snapshot = LoadSnapshotCache(options_.cache_file, options_.address);
  if (!snapshot.ok()) {
    if (!absl::IsNotFound(snapshot.status())) {
      SP_LOG(kWarning) << "ignoring the snapshot cache: " << snapshot.status().message();
    }
    return 0;
  }
  auto converted = ConvertSnapshot(snapshot->version(), snapshot->config(), local_,
                                   MaxClientsForOpenFiles(OpenFilesLimit(), options_.threads));
  if (!converted.ok()) {
    SP_LOG(kWarning) << "ignoring the snapshot cache " << options_.cache_file << ": "
                     << converted.status().message();
    return 0;
  }
  applier_->Install(converted->view, TopologySource::kCache, converted->policy, nullptr);
  std::string digest = ConfigDigest(snapshot->config());
  std::lock_guard<std::mutex> lock(mu_);
  applied_version_ = snapshot->version();
  applied_digest_ = std::move(digest);
  status_.cached_version = snapshot->version();
  SP_LOG(kInfo) << "loaded snapshot version " << snapshot->version() << " from "
                << options_.cache_file;
  return snapshot->version();
}

void ControlClient::Start() {
  stream_thread_ = std::thread([this] { RunStream(); });
  report_thread_ = std::thread([this] { RunReports(); });
  admin_thread_ = std::thread([this] { RunAdmin(); });
}

bool ControlClient::WaitForFirstSnapshot(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, Later(timeout),
                 [this] { return first_snapshot_applied_ || first_attempt_done_ || stopping_; });
  return first_snapshot_applied_;
}

void ControlClient::Stop() {
  std::vector<VersionWait> waits;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (stream_context_ != nullptr) stream_context_->TryCancel();
    if (admin_context_ != nullptr) admin_context_->TryCancel();
    waits.swap(waits_);
  }
  cv_.notify_all();
  for (std::thread* t : {&stream_thread_, &report_thread_, &admin_thread_}) {
    if (t->joinable()) t->join();
  }
  for (VersionWait& wait : waits) {
    wait.done(absl::UnavailableError("slotplane: the proxy is shutting down"));
  }
}

// ---------------------------------------------------------------------------------------------
// The watch stream
// ---------------------------------------------------------------------------------------------

std::vector<ControlEndpoint> ControlClient::Candidates() {
  std::vector<ControlEndpoint> endpoints = ExpandControlEndpoints(addresses_, resolver_);
  if (endpoints.empty()) endpoints.push_back({options_.address, ""});  // gRPC says what is wrong
  std::lock_guard<std::mutex> lock(mu_);
  endpoints_ = endpoints;
  return endpoints;
}

void ControlClient::RunStream() {
  // A random first candidate spreads a fleet over the replicas; then they are taken in turn.
  thread_local std::mt19937_64 random(std::random_device{}());
  size_t next = std::uniform_int_distribution<size_t>(0, 1 << 20)(random);
  int attempt = 0;   // rounds in a row in which no stream delivered a snapshot
  size_t tried = 0;  // candidates tried in this round
  bool round_had_snapshots = false;
  bool first = true;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      status_.state = StreamState::kConnecting;
      if (!first) ++status_.reconnects;
    }
    first = false;
    const std::vector<ControlEndpoint> endpoints = Candidates();
    const ControlEndpoint endpoint = endpoints[next % endpoints.size()];
    next = next % endpoints.size() + 1;
    uint64_t snapshots_before;
    {
      std::lock_guard<std::mutex> lock(mu_);
      snapshots_before =
          status_.snapshots_applied + status_.snapshots_nacked + status_.snapshots_unchanged;
    }
    grpc::Status result = StreamOnce(endpoint);
    // A round ends when every candidate was tried since the last stream that delivered snapshots
    // (that one included).
    {
      std::lock_guard<std::mutex> lock(mu_);
      const bool got_snapshots =
          status_.snapshots_applied + status_.snapshots_nacked + status_.snapshots_unchanged !=
          snapshots_before;
      if (got_snapshots) {
        tried = 0;
        round_had_snapshots = true;
      }
      ++tried;
      status_.state = StreamState::kDisconnected;
      status_.connected_since_unix_ms = 0;
      status_.last_stream_error = result.error_message();
      if (tried >= endpoints.size()) first_attempt_done_ = true;
      if (stopping_) return;
    }
    cv_.notify_all();
    // Without the stream, the topology may go stale: the proxy's own discovery takes over.
    applier_->set_control_owns_topology(false);
    const bool round_done = tried >= endpoints.size();
    SP_LOG(kWarning) << "control plane " << endpoint.target
                     << " stream ended: " << StreamEndReason(result) << "; "
                     << (round_done
                             ? std::string("reconnecting")
                             : absl::StrCat("trying ", endpoints[next % endpoints.size()].target));
    if (!round_done) continue;
    attempt = round_had_snapshots ? 0 : attempt + 1;
    tried = 0;
    round_had_snapshots = false;
    SleepBackoff(attempt);
  }
}

void ControlClient::SleepBackoff(int attempt) {
  absl::Duration delay = options_.initial_backoff;
  for (int i = 1; i < attempt && delay < options_.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options_.max_backoff);
  // ±25% jitter, so a fleet that lost its control plane does not come back in lockstep.
  thread_local std::mt19937_64 random(std::random_device{}());
  double factor = std::uniform_real_distribution<double>(0.75, 1.25)(random);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, Later(delay * factor), [this] { return stopping_; });
}

grpc::Status ControlClient::StreamOnce(const ControlEndpoint& endpoint) {
  // A fresh channel per stream: it connects at once instead of waiting out the backoff of a
  // channel that failed before.
  auto channel = ChannelTo(endpoint, options_, BaseChannelArguments());
  auto stub = v1::ProxyDiscovery::NewStub(channel);
  grpc::ClientContext context;
  if (!options_.proxy_token.empty()) {
    context.AddMetadata("authorization", "Bearer " + options_.proxy_token);
  }
  uint64_t cached_version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return grpc::Status::CANCELLED;
    stream_context_ = &context;
    cached_version = applied_version_;
  }
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProxyMessage, v1::ControlMessage>> stream =
      stub->Watch(&context);
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    stream_ = stream.get();
  }
  v1::ProxyMessage hello;
  hello.mutable_hello()->set_proxy_id(options_.proxy_id);
  hello.mutable_hello()->set_hostname(options_.hostname);
  hello.mutable_hello()->set_listen_address(options_.listen_address);
  hello.mutable_hello()->set_build_version(options_.build_version);
  hello.mutable_hello()->set_cached_version(cached_version);
  hello.mutable_hello()->set_max_message_bytes(kMaxGrpcMessageBytes);
  WriteMessage(hello);
  v1::ControlMessage message;
  bool connected = false;
  while (stream->Read(&message)) {
    if (!message.has_snapshot()) continue;
    if (!connected) {
      connected = true;
      MarkConnected(endpoint);
    }
    HandleSnapshot(message.snapshot());
  }
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    stream_ = nullptr;
  }
  grpc::Status status = stream->Finish();
  std::lock_guard<std::mutex> lock(mu_);
  stream_context_ = nullptr;
  return status;
}

void ControlClient::MarkConnected(const ControlEndpoint& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.state = StreamState::kConnected;
  status_.connected_since_unix_ms = NowUnixMs();
  status_.last_stream_error.clear();
  if (!status_.replica.empty() && status_.replica != endpoint.target) {
    ++status_.replica_switches;
    SP_LOG(kInfo) << "moved from control-plane replica " << status_.replica << " to "
                  << endpoint.target << " (version in force " << applied_version_ << ")";
  } else {
    SP_LOG(kInfo) << "connected to the control plane " << endpoint.target;
  }
  status_.replica = endpoint.target;
  replica_ = endpoint;
}

bool ControlClient::WriteMessage(const v1::ProxyMessage& message) {
  std::lock_guard<std::mutex> lock(write_mu_);
  return stream_ != nullptr && stream_->Write(message);
}

bool ControlClient::ConfirmUnchanged(const v1::Snapshot& snapshot) {
  const uint64_t version = snapshot.version();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (version == 0 || version != applied_version_) return false;
  }
  // Versions name one (topology, policy) pair fleet-wide: the replicas share them. The content
  // is compared too (a control plane whose store was lost counts again from 1), and the policy in
  // force must be that version's (it is, unless a standalone change came in between).
  const std::string digest = ConfigDigest(snapshot.config());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (digest != applied_digest_) return false;
  }
  if (applier_->policy()->version != version) return false;
  auto converted = ConvertSnapshot(version, snapshot.config(), local_,
                                   MaxClientsForOpenFiles(OpenFilesLimit(), options_.threads));
  if (!converted.ok()) return false;  // applied before, refused now (limits): HandleSnapshot NACKs
  applier_->set_control_owns_topology(converted->view != nullptr);
  // While the stream was down the refresher may have installed a newer view: the control plane's
  // is the one that counts again (installed only when it differs).
  applier_->ConfirmView(converted->view, TopologySource::kControlPlane);
  // The ACK is still needed: this stream's replica tracks acknowledgements per stream (fleet
  // convergence, waits for a version), and its nonce differs from the previous replica's.
  v1::ProxyMessage ack;
  ack.mutable_ack()->set_version(version);
  ack.mutable_ack()->set_nonce(snapshot.nonce());
  WriteMessage(ack);
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_.acked_version = version;
    ++status_.snapshots_unchanged;
    first_snapshot_applied_ = true;
  }
  cv_.notify_all();
  SP_LOG(kInfo) << "snapshot version " << version
                << " is the one in force: acknowledged, not applied again";
  CompleteWaits(version, absl::OkStatus());
  return true;
}

void ControlClient::HandleSnapshot(const v1::Snapshot& snapshot) {
  const uint64_t version = snapshot.version();
  if (ConfirmUnchanged(snapshot)) return;
  auto converted = ConvertSnapshot(version, snapshot.config(), local_,
                                   MaxClientsForOpenFiles(OpenFilesLimit(), options_.threads));
  if (!converted.ok()) {
    std::string error(converted.status().message());
    SP_LOG(kWarning) << "rejecting snapshot version " << version << ": " << error;
    v1::ProxyMessage nack;
    nack.mutable_nack()->set_version(version);
    nack.mutable_nack()->set_nonce(snapshot.nonce());
    nack.mutable_nack()->set_error(error);
    WriteMessage(nack);
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_.last_nack_version = version;
      status_.last_nack_error = error;
      ++status_.snapshots_nacked;
    }
    CompleteWaits(version, RejectedError(version, error));
    return;
  }
  // Set before installing, so that the fallback refresher cannot overwrite this topology.
  applier_->set_control_owns_topology(converted->view != nullptr);
  struct Applied {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto applied = std::make_shared<Applied>();
  applier_->Install(converted->view, TopologySource::kControlPlane, converted->policy, [applied] {
    std::lock_guard<std::mutex> lock(applied->mu);
    applied->done = true;
    applied->cv.notify_all();
  });
  {
    // Workers apply within a loop pass; the wait only ends early when the proxy stops.
    std::unique_lock<std::mutex> lock(applied->mu);
    while (!applied->cv.wait_for(lock, kStopPollInterval, [&] { return applied->done; })) {
      std::lock_guard<std::mutex> stop_lock(mu_);
      if (stopping_) return;
    }
  }
  SaveCache(snapshot);
  v1::ProxyMessage ack;
  ack.mutable_ack()->set_version(version);
  ack.mutable_ack()->set_nonce(snapshot.nonce());
  WriteMessage(ack);
  std::string digest = ConfigDigest(snapshot.config());  // outside mu_: Status() is on workers
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (version < applied_version_) {
      SP_LOG(kWarning) << "the control plane went back from version " << applied_version_ << " to "
                       << version;
    }
    applied_version_ = version;
    applied_digest_ = std::move(digest);
    status_.acked_version = version;
    ++status_.snapshots_applied;
    first_snapshot_applied_ = true;
  }
  cv_.notify_all();
  SP_LOG(kInfo) << "applied snapshot version " << version
                << (converted->view != nullptr ? "" : " (no topology in it yet)");
  CompleteWaits(version, absl::OkStatus());
}

void ControlClient::SaveCache(const v1::Snapshot& snapshot) {
  if (options_.cache_file.empty()) return;
  absl::Status s = SaveSnapshotCache(options_.cache_file, options_.address, snapshot);
  if (!s.ok()) {
    SP_LOG(kWarning) << "cannot cache snapshot version " << snapshot.version() << ": "
                     << s.message();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  status_.cached_version = snapshot.version();
}

// ---------------------------------------------------------------------------------------------
// Reports: MOVED, stats, and the deadlines of PROXY CONFIG SET waits
// ---------------------------------------------------------------------------------------------

void ControlClient::ReportMoved(uint16_t slot, const NodeAddress& address) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (moved_.size() >= kMaxQueuedMovedReports) return;
    moved_.emplace_back(slot, address);
  }
  cv_.notify_all();
}

void ControlClient::RequestTopologyRefresh() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    refresh_wanted_ = true;
  }
  cv_.notify_all();
}

void ControlClient::RunReports() {
  auto next_stats = Later(options_.stats_interval);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto wake = next_stats;
      for (const VersionWait& wait : waits_) wake = std::min(wake, wait.deadline);
      cv_.wait_until(lock, wake,
                     [this] { return stopping_ || !moved_.empty() || refresh_wanted_; });
      if (stopping_) return;
    }
    FlushReports();
    if (Clock::now() >= next_stats) {
      SendStats();
      next_stats = Later(options_.stats_interval);
    }
    ExpireWaits();
  }
}

void ControlClient::FlushReports() {
  std::vector<std::pair<uint16_t, NodeAddress>> moved;
  bool refresh = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    moved.swap(moved_);
    std::swap(refresh, refresh_wanted_);
  }
  if (refresh) {
    v1::ProxyMessage message;
    message.mutable_refresh();
    if (!WriteMessage(message)) return;  // no stream: the refresher discovers on its own meanwhile
  }
  for (const auto& [slot, address] : moved) {
    v1::ProxyMessage message;
    message.mutable_moved()->set_slot(slot);
    message.mutable_moved()->set_address(address.ToString());
    if (!WriteMessage(message)) return;  // no stream: the refresher handles MOVED meanwhile
    std::lock_guard<std::mutex> lock(mu_);
    ++status_.moved_reports;
  }
}

void ControlClient::SendStats() {
  if (!stats_) return;
  v1::ProxyMessage message;
  *message.mutable_stats() = stats_();
  WriteMessage(message);
}

void ControlClient::ExpireWaits() {
  std::vector<VersionWait> expired;
  std::string state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = Clock::now();
    for (auto it = waits_.begin(); it != waits_.end();) {
      if (it->deadline <= now) {
        expired.push_back(std::move(*it));
        it = waits_.erase(it);
      } else {
        ++it;
      }
    }
    state = StreamStateName(status_.state);
  }
  for (VersionWait& wait : expired) {
    wait.done(absl::DeadlineExceededError(
        absl::StrCat("slotplane: the control plane accepted the change as version ", wait.version,
                     " but this proxy has not received it within ",
                     absl::FormatDuration(options_.apply_wait), " (stream ", state, ")")));
  }
}

void ControlClient::CompleteWaits(uint64_t version, const absl::Status& error) {
  std::vector<VersionWait> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = waits_.begin(); it != waits_.end();) {
      if (it->version <= version) {
        done.push_back(std::move(*it));
        it = waits_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (VersionWait& wait : done) {
    if (error.ok()) {
      wait.done(version);
    } else {
      wait.done(error);
    }
  }
}

ControlStatus ControlClient::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

// ---------------------------------------------------------------------------------------------
// Admin API
// ---------------------------------------------------------------------------------------------

void ControlClient::AddAuth(grpc::ClientContext* context) const {
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
}

void ControlClient::Enqueue(AdminTask task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      admin_tasks_.push_back(std::move(task));
      cv_.notify_all();
      return;
    }
  }
  task(/*cancelled=*/true);
}

void ControlClient::RunAdmin() {
  while (true) {
    AdminTask task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !admin_tasks_.empty(); });
      if (stopping_) break;
      task = std::move(admin_tasks_.front());
      admin_tasks_.pop_front();
    }
    task(/*cancelled=*/false);
  }
  std::deque<AdminTask> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(admin_tasks_);
  }
  for (AdminTask& task : left) task(/*cancelled=*/true);
}

v1::Admin::Stub* ControlClient::AdminStub(const ControlEndpoint& endpoint) {
  auto it = admin_channels_.find(endpoint.target);
  if (it == admin_channels_.end()) {
    // Names re-resolve to new records over time: keep the channels of a few replicas only.
    if (admin_channels_.size() >= kMaxAdminChannels) admin_channels_.clear();
    grpc::ChannelArguments args = BaseChannelArguments();
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kAdminMaxReconnectBackoffMs);
    AdminChannel admin;
    admin.channel = ChannelTo(endpoint, options_, args);
    admin.stub = v1::Admin::NewStub(admin.channel);
    it = admin_channels_.emplace(endpoint.target, std::move(admin)).first;
  }
  return it->second.stub.get();
}

grpc::Status ControlClient::CallAdmin(const AdminCall& call, std::string* used) {
  ControlEndpoint primary;
  std::optional<ControlEndpoint> fallback;
  bool connected;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The stream's replica (the first candidate before any stream), then the one after it.
    primary = !replica_.target.empty() ? replica_
              : !endpoints_.empty()    ? endpoints_.front()
                                       : ControlEndpoint{options_.address, ""};
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      if (endpoints_[i].target != primary.target) continue;
      const ControlEndpoint& next = endpoints_[(i + 1) % endpoints_.size()];
      if (next.target != primary.target) fallback = next;
      break;
    }
    connected = status_.state == StreamState::kConnected;
  }
  // While the stream is up its replica is there: wait (up to the deadline) for an admin channel
  // that is still reconnecting, as it may be right after a control-plane restart. Otherwise fail
  // fast rather than keep the client waiting for a control plane that is away.
  *used = primary.target;
  grpc::Status status = CallAdminOn(primary, connected, call);
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE || !fallback.has_value()) return status;
  SP_LOG(kInfo) << "control-plane replica " << primary.target << " unavailable for an admin call ("
                << status.error_message() << "); trying " << fallback->target;
  *used = fallback->target;
  return CallAdminOn(*fallback, /*wait_for_ready=*/false, call);
}

grpc::Status ControlClient::CallAdminOn(const ControlEndpoint& endpoint, bool wait_for_ready,
                                        const AdminCall& call) {
  v1::Admin::Stub* stub = AdminStub(endpoint);
  grpc::ClientContext context;
  AddAuth(&context);
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::microseconds(absl::ToInt64Microseconds(options_.rpc_timeout)));
  context.set_wait_for_ready(wait_for_ready);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return grpc::Status::CANCELLED;
    admin_context_ = &context;
  }
  grpc::Status status = call(stub, &context);
  std::lock_guard<std::mutex> lock(mu_);
  admin_context_ = nullptr;
  return status;
}

void ControlClient::UpdatePolicy(std::map<std::string, std::string> options, std::string origin,
                                 std::function<void(absl::StatusOr<uint64_t>)> done) {
  absl::Status not_connected;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.state != StreamState::kConnected) {
      std::string why = status_.last_stream_error.empty()
                            ? std::string(StreamStateName(status_.state))
                            : status_.last_stream_error;
      not_connected = absl::UnavailableError(
          absl::StrCat("slotplane: not connected to the control plane at ", options_.address, " (",
                       why, "); a policy change needs it"));
    }
  }
  if (!not_connected.ok()) {
    done(not_connected);
    return;
  }
  Enqueue([this, options = std::move(options), origin = std::move(origin),
           done = std::move(done)](bool cancelled) mutable {
    if (cancelled) {
      done(absl::UnavailableError("slotplane: the proxy is shutting down"));
      return;
    }
    v1::UpdatePolicyRequest request;
    for (const auto& [name, value] : options) (*request.mutable_options())[name] = value;
    request.set_origin(origin);
    v1::UpdatePolicyResponse response;
    std::string replica;
    grpc::Status status = CallAdmin(
        [&](v1::Admin::Stub* admin, grpc::ClientContext* context) {
          return admin->UpdatePolicy(context, request, &response);
        },
        &replica);
    if (!status.ok()) {
      done(FromGrpc(status, replica));
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    // The stream may have delivered the new version before this reply: it is applied, or NACKed.
    if (applied_version_ >= response.version()) {
      uint64_t applied = applied_version_;
      lock.unlock();
      done(applied);
      return;
    }
    if (status_.last_nack_version >= response.version()) {
      absl::Status rejected = RejectedError(status_.last_nack_version, status_.last_nack_error);
      lock.unlock();
      done(rejected);
      return;
    }
    waits_.push_back(VersionWait{response.version(), Later(options_.apply_wait), std::move(done)});
    cv_.notify_all();
  });
}

void ControlClient::RefreshTopology(std::function<void(absl::Status)> done) {
  Enqueue([this, done = std::move(done)](bool cancelled) {
    if (cancelled) {
      done(absl::UnavailableError("slotplane: the proxy is shutting down"));
      return;
    }
    v1::RefreshTopologyRequest request;
    v1::RefreshTopologyResponse response;
    std::string replica;
    grpc::Status status = CallAdmin(
        [&](v1::Admin::Stub* admin, grpc::ClientContext* context) {
          return admin->RefreshTopology(context, request, &response);
        },
        &replica);
    done(status.ok() ? absl::OkStatus() : FromGrpc(status, replica));
  });
}

void ControlClient::ListProxies(std::function<void(absl::StatusOr<FleetListing>)> done) {
  Enqueue([this, done = std::move(done)](bool cancelled) {
    if (cancelled) {
      done(absl::UnavailableError("slotplane: the proxy is shutting down"));
      return;
    }
    v1::ListProxiesRequest request;
    v1::ListProxiesResponse response;
    std::string replica;
    grpc::Status status = CallAdmin(
        [&](v1::Admin::Stub* admin, grpc::ClientContext* context) {
          return admin->ListProxies(context, request, &response);
        },
        &replica);
    if (!status.ok()) {
      done(FromGrpc(status, replica));
      return;
    }
    FleetListing listing;
    listing.current_version = response.current_version();
    for (const v1::ProxyInfo& info : response.proxies()) {
      FleetMember member;
      member.proxy_id = info.proxy_id();
      member.hostname = info.hostname();
      member.listen_address = info.listen_address();
      member.build_version = info.build_version();
      member.connected_since_unix_ms = info.connected_since_unix_ms();
      member.acked_version = info.acked_version();
      member.last_nack_version = info.last_nack_version();
      member.last_nack_error = info.last_nack_error();
      member.connected_clients = info.stats().connected_clients();
      member.commands_processed = info.stats().commands_processed();
      member.moved_redirects = info.stats().moved_redirects();
      listing.proxies.push_back(std::move(member));
    }
    done(std::move(listing));
  });
}

}  // namespace slotplane::dataplane
