#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcd/rpc.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace slotplane::control {

// How to reach etcd: `--store etcd://h1:p1,h2:p2` and the etcd-* options.
struct EtcdClientOptions {
  std::vector<std::string> endpoints;  // host:port, at least one
  std::string tls_ca;                  // PEM CA file: TLS towards etcd (empty: plaintext)
  std::string tls_cert;                // PEM client certificate (with tls_key), optional
  std::string tls_key;
  std::string user;           // etcd user (Auth.Authenticate); empty: no auth
  std::string password_file;  // its password, first line (never logged)
  absl::Duration call_timeout = absl::Seconds(5);
};

// The largest message exchanged with etcd either way. etcd refuses requests above its
// --max-request-bytes (1.5 MiB by default); the store checks its own values against
// kMaxEtcdValueBytes before sending.
constexpr int kMaxEtcdMessageBytes = 4 * 1024 * 1024;
constexpr size_t kMaxEtcdValueBytes = 1536 * 1024 - 64 * 1024;

// A client of etcd's v3 gRPC API (proto/etcd/): one channel per endpoint, one endpoint in use
// at a time. A unary call that finds its endpoint unavailable (or past its deadline) moves to the
// next endpoint and is retried there, once around the list; with auth, the token from
// Auth.Authenticate travels as the `token` metadata and is renewed when etcd says it is invalid.
// The password is read once at Create and never appears in a log or error.
//
// Thread-safe: the store, its watcher, the replica set and admin calls share one client.
class EtcdClient {
 public:
  struct Endpoint {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Auth::Stub> auth;
  };

  // Reads the TLS and password files; connects lazily.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(EtcdClientOptions options);

  absl::StatusOr<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request);
  absl::StatusOr<etcdserverpb::PutResponse> Put(const etcdserverpb::PutRequest& request);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  absl::StatusOr<etcdserverpb::LeaseGrantResponse> LeaseGrant(int64_t ttl_seconds);
  // One attempt on the endpoint in use, 1 s at most (for a clean stop).
  absl::Status LeaseRevoke(int64_t id);

  // For streams (Watch, LeaseKeepAlive): the endpoint in use and its index, and a context with
  // the auth token (authenticating first when needed). A stream that breaks reports its index
  // with Failed, which moves to the next endpoint unless another caller already did.
  Endpoint& Current(size_t* index);
  absl::Status PrepareContext(grpc::ClientContext* context);
  void Failed(size_t index);

  // "etcd 10.0.0.1:2379,10.0.0.2:2379 (TLS) (auth)": no user name, password or token; for logs
  // and status.
  std::string Describe() const;
  const EtcdClientOptions& options() const { return options_; }

 private:
  explicit EtcdClient(EtcdClientOptions options) : options_(std::move(options)) {}

  // Runs `call(endpoint, context)` with failover and token renewal.
  template <typename Call>
  absl::Status Invoke(const char* what, const Call& call);
  absl::Status Authenticate(size_t index);
  std::string Token() const;

  const EtcdClientOptions options_;
  std::string password_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;

  mutable std::mutex mu_;
  size_t current_ = 0;
  std::string token_;  // empty: not authenticated (yet)
};

// Converts a gRPC status from etcd into an absl::Status saying which call failed.
absl::Status FromGrpc(const char* what, const grpc::Status& status);

}  // namespace slotplane::control
