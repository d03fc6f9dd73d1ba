#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "controlplane/watch/watch_hub.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "slotplane/v1/discovery.pb.h"

namespace grpc {
class CallbackServerContext;
}

namespace slotplane::control {

// What a watch stream needs from the rest of the control plane.
struct WatchContext {
  WatchHub* hub = nullptr;
  ControlMetrics* metrics = nullptr;
  // A proxy reported a MOVED or asked for a refresh: refresh the topology soon (must not block).
  std::function<void()> refresh_topology;
  // This process's boot id: ACKs must carry a nonce this process sent.
  std::string boot_id;
};

// One proxy's ProxyDiscovery.Watch stream on gRPC's callback API, on raw ByteBuffers so that a
// snapshot is written from the bytes serialized once per version (see Snapshot). Reactions run
// on gRPC's threads and never block: they parse, record under a short lock and start the next
// operation. Memory per stream is bounded: at most one write in flight and one newer snapshot
// pending (a slow proxy gets only the latest version when its write completes, and never delays
// anyone else). The same version is never written twice on one stream.
//
// Lifetime: created by the Watch method; deleted when gRPC is done with it (OnDone) and the hub
// holds no reference. gRPC calls (StartRead/StartWrite/Finish) are never made under mu_, because
// gRPC may run a reaction inline.
class WatchReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                           public WatchStream {
 public:
  WatchReactor(grpc::CallbackServerContext* context, const WatchContext& deps);

  // grpc::ServerBidiReactor
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

  // WatchStream
  void Offer(const SnapshotPtr& snapshot) override;
  void Close(const grpc::Status& status) override;
  bool Describe(v1::ProxyInfo* out) const override;
  bool HelloReceived() const override { return hello_.load(std::memory_order_acquire); }
  uint64_t AckedVersion() const override { return acked_.load(std::memory_order_acquire); }
  void Ref() override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() override;

 private:
  ~WatchReactor() override = default;

  void Handle(const v1::ProxyMessage& message);
  void HandleHello(const v1::Hello& hello);
  void HandleAck(const v1::Ack& ack);
  void HandleNack(const v1::Nack& nack);
  // Starts a write of the latest offered snapshot when none is in flight and it is newer than
  // what this stream sent; or the pending Finish once nothing is in flight. A snapshot larger
  // than the proxy receives is not written but recorded as the proxy's NACK.
  void Pump();
  // Records the NACK of `snapshot`, too large for this proxy; returns the line to log.
  std::string RecordTooLargeLocked(const Snapshot& snapshot);

  const WatchContext deps_;
  const std::string peer_;
  const int64_t connected_since_unix_ms_;
  grpc::ByteBuffer in_;  // owned by the read in flight (one at a time)

  mutable std::mutex mu_;
  v1::ProxyInfo info_;              // identity, acks, nacks, stats (guarded by mu_)
  SnapshotPtr latest_;              // newest offered snapshot (guarded by mu_)
  grpc::ByteBuffer out_;            // the write in flight (guarded by mu_ until handed to gRPC)
  uint64_t sent_version_ = 0;       // newest version written (or found too large) on this stream
  uint64_t max_receive_bytes_ = 0;  // what the proxy's Hello said it receives
  bool writing_ = false;
  bool read_starting_ = false;  // a StartRead is being issued: Finish must wait for it
  bool finishing_ = false;      // Finish called or wanted
  bool finish_started_ = false;
  grpc::Status finish_status_;

  std::atomic<bool> hello_{false};
  std::atomic<uint64_t> acked_{0};
  std::atomic<int> refs_{1};  // gRPC's, dropped in OnDone
};

}  // namespace slotplane::control
