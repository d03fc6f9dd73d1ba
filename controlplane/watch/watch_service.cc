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

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* WatchService::Watch(
    grpc::CallbackServerContext* context) {
  if (require_client_cert_) {
    std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) {
      SP_LOG(kWarning) << "refused a watch stream from " << context->peer()
                       << ": no verified client certificate";
      return new RejectedStream(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                             "a client certificate is required (mTLS)"));
    }
  }
  return new WatchReactor(context, deps_);
}

}  // namespace slotplane::control
