#include "controlplane/watch/watch_service.h"

#include "common/logging.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"

namespace slotplane::control {
namespace {

// A stream refused before it started: finishes at once.
class RejectedStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RejectedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::Status WatchService::Authenticate(grpc::CallbackServerContext* context) const {
  if (credentials_.require_client_cert) {
    std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "a client certificate is required (mTLS)");
    }
  }
  if (credentials_.proxy_token != nullptr) return credentials_.proxy_token->Check(*context);
  return grpc::Status::OK;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* WatchService::Watch(
    grpc::CallbackServerContext* context) {
  grpc::Status status = Authenticate(context);
  if (!status.ok()) {
    deps_.metrics->streams_refused.Increment();
    uint64_t skipped = 0;
    if (refused_log_.Allow(&skipped)) {
      SP_LOG(kWarning) << "refused a watch stream from " << context->peer() << ": "
                       << status.error_message() << SkippedSuffix(skipped);
    }
    return new RejectedStream(status);
  }
  return new WatchReactor(context, deps_);
}

}  // namespace slotplane::control
