#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc_limits.h"
#include "grpc/grpc.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/sync_stream.h"
#include "slotplane/v1/discovery.grpc.pb.h"

namespace slotplane::integration {

struct WatchClientOptions {
  std::string address;  // host:port of slotplane-control
  // Plaintext when null.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string tls_server_name;  // SSL target name override (TLS only)
  std::string token;            // the proxy token (authorization: Bearer); empty: none sent
  std::string proxy_id = "test-proxy";
  std::string hostname = "test-host";
  std::string listen_address = "127.0.0.1:1";
  std::string build_version = "test";
  uint64_t cached_version = 0;
  // What Hello says the client receives (0: says nothing, as a proxy built before the limit).
  uint64_t max_message_bytes = kMaxGrpcMessageBytes;
  bool send_hello = true;
};

// Keeps gRPC initialized for the whole test binary and shuts it down blocking after the last
// test, so that no gRPC background thread still owns memory when the process exits (the
// sanitizer build reports that as a leak). Register once per binary:
//   const auto* const kGrpc = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);
class GrpcEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { grpc_init(); }
  void TearDown() override { grpc_shutdown_blocking(); }
};

// A stand-in for one proxy's ProxyDiscovery.Watch stream, for tests of slotplane-control: sends
// Hello, then whatever the test says (ACK, NACK, MOVED, stats); a reader thread queues every
// Snapshot the server sends, so that a test can wait for the next one with a deadline or check
// that none came. Owned by one test thread (plus its own reader thread).
class WatchClient {
 public:
  static absl::StatusOr<std::unique_ptr<WatchClient>> Open(const WatchClientOptions& options);
  WatchClient(const WatchClient&) = delete;
  WatchClient& operator=(const WatchClient&) = delete;
  // Cancels the stream and joins the reader.
  ~WatchClient();

  // The next snapshot the server sent, waiting at most `timeout`.
  absl::StatusOr<v1::Snapshot> Next(absl::Duration timeout);
  // Snapshots that have arrived and not been taken by Next().
  size_t Queued();

  absl::Status Hello();
  absl::Status Ack(const v1::Snapshot& snapshot);
  absl::Status Nack(const v1::Snapshot& snapshot, const std::string& error);
  absl::Status ReportMoved(uint32_t slot, const std::string& address);
  absl::Status SendStats(const v1::ProxyStats& stats);
  // Sends a raw message (e.g. an ACK with a wrong nonce).
  absl::Status Send(const v1::ProxyMessage& message);

  // Waits (bounded) for the server to end the stream and returns its status.
  absl::StatusOr<grpc::Status> WaitForEnd(absl::Duration timeout);
  // Half-closes the stream (the server then finishes it).
  void CloseSend();

 private:
  explicit WatchClient(WatchClientOptions options) : options_(std::move(options)) {}
  void ReadLoop();

  const WatchClientOptions options_;
  std::unique_ptr<v1::ProxyDiscovery::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::ProxyMessage, v1::ControlMessage>> stream_;
  std::thread reader_;

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<v1::Snapshot> received_;
  bool read_done_ = false;
  std::optional<grpc::Status> final_status_;
};

}  // namespace slotplane::integration
