#include "controlplane/store/etcd_client.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace slotplane::control {
namespace {

absl::StatusOr<std::string> ReadFile(const char* option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("option '", option, "': cannot read '", path, "': ", std::strerror(errno)));
  }
  std::stringstream data;
  data << in.rdbuf();
  return data.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const EtcdClientOptions& options) {
  if (options.tls_ca.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadFile("etcd-tls-ca", options.tls_ca);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (!options.tls_cert.empty()) {
    absl::StatusOr<std::string> cert = ReadFile("etcd-tls-cert", options.tls_cert);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile("etcd-tls-key", options.tls_key);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

// etcd answers a stale or unknown token with "etcdserver: invalid auth token".
bool TokenRejected(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         status.error_message().find("invalid auth token") != std::string::npos;
}

// Worth another endpoint: the member is gone, slow, or has no leader.
bool TryElsewhere(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

absl::Status FromGrpc(const char* what, const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("etcd ", what, ": ", status.error_message()));
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(EtcdClientOptions options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("no etcd endpoint");
  std::unique_ptr<EtcdClient> client(new EtcdClient(std::move(options)));
  const EtcdClientOptions& o = client->options_;
  if (!o.user.empty()) {
    absl::StatusOr<std::string> password = ReadFile("etcd-password-file", o.password_file);
    if (!password.ok()) return password.status();
    std::string& p = *password;
    p = p.substr(0, p.find_first_of("\r\n"));
    client->password_ = std::move(p);
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = Credentials(o);
  if (!credentials.ok()) return credentials.status();
  for (const std::string& address : o.endpoints) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxEtcdMessageBytes);
    args.SetMaxSendMessageSize(kMaxEtcdMessageBytes);
    // A member that comes back is used again soon; the default backoff reaches 2 minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->address = address;
    endpoint->channel = grpc::CreateCustomChannel(address, *credentials, args);
    endpoint->kv = etcdserverpb::KV::NewStub(endpoint->channel);
    endpoint->watch = etcdserverpb::Watch::NewStub(endpoint->channel);
    endpoint->lease = etcdserverpb::Lease::NewStub(endpoint->channel);
    endpoint->auth = etcdserverpb::Auth::NewStub(endpoint->channel);
    client->endpoints_.push_back(std::move(endpoint));
  }
  return client;
}

std::string EtcdClient::Describe() const {
  return "etcd " + absl::StrJoin(options_.endpoints, ",") +
         (options_.tls_ca.empty() ? "" : " (TLS)") + (options_.user.empty() ? "" : " (auth)");
}

EtcdClient::Endpoint& EtcdClient::Current(size_t* index) {
  std::lock_guard<std::mutex> lock(mu_);
  *index = current_;
  return *endpoints_[current_];
}

void EtcdClient::Failed(size_t index) {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ == index) current_ = (current_ + 1) % endpoints_.size();
}

std::string EtcdClient::Token() const {
  std::lock_guard<std::mutex> lock(mu_);
  return token_;
}

absl::Status EtcdClient::Authenticate(size_t index) {
  etcdserverpb::AuthenticateRequest request;
  request.set_name(options_.user);
  request.set_password(password_);
  etcdserverpb::AuthenticateResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  grpc::Status status = endpoints_[index]->auth->Authenticate(&context, request, &response);
  if (!status.ok()) {
    if (TryElsewhere(status)) Failed(index);
    return FromGrpc("authentication", status);
  }
  std::lock_guard<std::mutex> lock(mu_);
  token_ = response.token();
  return absl::OkStatus();
}

absl::Status EtcdClient::PrepareContext(grpc::ClientContext* context) {
  if (options_.user.empty()) return absl::OkStatus();
  std::string token = Token();
  if (token.empty()) {
    size_t index = 0;
    Current(&index);
    if (absl::Status s = Authenticate(index); !s.ok()) return s;
    token = Token();
  }
  context->AddMetadata("token", token);
  return absl::OkStatus();
}

template <typename Call>
absl::Status EtcdClient::Invoke(const char* what, const Call& call) {
  grpc::Status last;
  bool renewed = false;
  // Once around the endpoints (plus one for a token renewal).
  for (size_t attempt = 0; attempt <= endpoints_.size(); ++attempt) {
    size_t index = 0;
    Endpoint& endpoint = Current(&index);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
    if (absl::Status s = PrepareContext(&context); !s.ok()) {
      if (absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)) continue;
      return s;
    }
    last = call(endpoint, &context);
    if (last.ok()) return absl::OkStatus();
    if (!options_.user.empty() && !renewed && TokenRejected(last)) {
      renewed = true;
      std::lock_guard<std::mutex> lock(mu_);
      token_.clear();
      continue;
    }
    if (!TryElsewhere(last)) break;
    Failed(index);
  }
  return FromGrpc(what, last);
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::Range(
    const etcdserverpb::RangeRequest& request) {
  etcdserverpb::RangeResponse response;
  absl::Status s = Invoke("range", [&](Endpoint& e, grpc::ClientContext* c) {
    return e.kv->Range(c, request, &response);
  });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<etcdserverpb::PutResponse> EtcdClient::Put(const etcdserverpb::PutRequest& request) {
  etcdserverpb::PutResponse response;
  absl::Status s = Invoke(
      "put", [&](Endpoint& e, grpc::ClientContext* c) { return e.kv->Put(c, request, &response); });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(const etcdserverpb::TxnRequest& request) {
  etcdserverpb::TxnResponse response;
  absl::Status s = Invoke(
      "txn", [&](Endpoint& e, grpc::ClientContext* c) { return e.kv->Txn(c, request, &response); });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<etcdserverpb::LeaseGrantResponse> EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  absl::Status s = Invoke("lease grant", [&](Endpoint& e, grpc::ClientContext* c) {
    return e.lease->LeaseGrant(c, request, &response);
  });
  if (!s.ok()) return s;
  if (!response.error().empty())
    return absl::UnavailableError("etcd lease grant: " + response.error());
  return response;
}

absl::Status EtcdClient::LeaseRevoke(int64_t id) {
  // At shutdown: one short attempt, so that a stop with etcd unreachable is not held up (the
  // lease then expires on its own).
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(id);
  etcdserverpb::LeaseRevokeResponse response;
  size_t index = 0;
  Endpoint& endpoint = Current(&index);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  if (absl::Status s = PrepareContext(&context); !s.ok()) return s;
  return FromGrpc("lease revoke", endpoint.lease->LeaseRevoke(&context, request, &response));
}

}  // namespace slotplane::control
