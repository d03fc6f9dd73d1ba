#include "controlplane/admin/version_waiter.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/server_context.h"

namespace slotplane::control {

VersionWaiter* VersionWaiter::Start(grpc::CallbackServerContext* context,
                                    const v1::WaitForVersionRequest& request,
                                    grpc::ByteBuffer* response, WatchHub* hub,
                                    ControlMetrics* metrics, const grpc::Status& refused) {
  auto* waiter = new VersionWaiter(request.version(), response, hub, metrics);
  if (!refused.ok()) {
    waiter->Complete(refused, 0);
    waiter->Unref();  // no hub waiter
    waiter->Unref();  // no alarm
    return waiter;
  }
  auto deadline = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(kMaxWait);
  if (request.timeout_ms() > 0) {
    deadline = std::min(deadline, std::chrono::system_clock::now() +
                                      std::chrono::milliseconds(request.timeout_ms()));
  }
  deadline = std::min(deadline, context->deadline());
  waiter->alarm_.Set(deadline, [waiter](bool fired) {
    if (fired) {
      waiter->Complete(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                    absl::StrCat("not every proxy acked version ", waiter->version_,
                                                 " in time; waiting for: ",
                                                 waiter->hub_->Laggards(waiter->version_))),
                       0);
    }
    waiter->Unref();
  });
  // May complete at once (already acked), before this returns: gRPC keeps the Finish for later.
  waiter->waiter_id_ =
      hub->AddWaiter(request.version(), [waiter](const grpc::Status& status, int proxies) {
        waiter->Complete(status, proxies);
        waiter->Unref();
      });
  return waiter;
}

void VersionWaiter::Complete(const grpc::Status& status, int proxies) {
  if (completed_.exchange(true)) return;
  grpc::Status finish = status;
  if (status.ok()) {
    v1::WaitForVersionResponse response;
    response.set_version(version_);
    response.set_proxies(proxies);
    bool own_buffer = false;
    finish = grpc::SerializationTraits<v1::WaitForVersionResponse>::Serialize(response, response_,
                                                                              &own_buffer);
  }
  metrics_->CountAdminCall("WaitForVersion", finish.error_code());
  Finish(finish);
}

void VersionWaiter::OnCancel() {
  Complete(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the client"), 0);
}

void VersionWaiter::OnDone() {
  if (waiter_id_ != 0 && hub_->CancelWaiter(waiter_id_)) Unref();
  alarm_.Cancel();  // its callback still runs (not fired) and drops its reference
  Unref();
}

void VersionWaiter::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

}  // namespace slotplane::control
