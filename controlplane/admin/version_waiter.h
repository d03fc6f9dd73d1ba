#pragma once

#include <atomic>

#include "controlplane/metrics/metrics.h"
#include "controlplane/watch/watch_hub.h"
#include "grpcpp/alarm.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"
#include "slotplane/v1/admin.pb.h"

namespace grpc {
class CallbackServerContext;
}

namespace slotplane::control {

// Admin.WaitForVersion on gRPC's callback API: no thread waits. The call registers a waiter with
// the hub (done by whichever ACK or disconnect completes the fleet) and a grpc::Alarm for its
// deadline; the first of the two, a cancellation or the hub's shutdown finishes the call.
//
// Lifetime: three references — gRPC's (until OnDone), the hub waiter's and the alarm's (each
// until its callback ran or was cancelled); the last one deletes the object.
class VersionWaiter final : public grpc::ServerUnaryReactor {
 public:
  // Longest wait without a timeout or deadline.
  static constexpr absl::Duration kMaxWait = absl::Hours(1);

  // Starts the wait, or finishes at once with `refused` when that is an error (authentication,
  // a malformed request). The response is serialized into `response` (raw method).
  static VersionWaiter* Start(grpc::CallbackServerContext* context,
                              const v1::WaitForVersionRequest& request, grpc::ByteBuffer* response,
                              WatchHub* hub, ControlMetrics* metrics, const grpc::Status& refused);

  void OnCancel() override;
  void OnDone() override;

 private:
  VersionWaiter(uint64_t version, grpc::ByteBuffer* response, WatchHub* hub,
                ControlMetrics* metrics)
      : version_(version), response_(response), hub_(hub), metrics_(metrics) {}
  ~VersionWaiter() override = default;

  // Finishes the call the first time it is called.
  void Complete(const grpc::Status& status, int proxies);
  void Unref();

  const uint64_t version_;
  grpc::ByteBuffer* const response_;
  WatchHub* const hub_;
  ControlMetrics* const metrics_;
  grpc::Alarm alarm_;
  WatchHub::WaiterId waiter_id_ = 0;
  std::atomic<bool> completed_{false};
  std::atomic<int> refs_{3};
};

}  // namespace slotplane::control
