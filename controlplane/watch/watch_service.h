#pragma once

#include "controlplane/watch/watch_reactor.h"
#include "slotplane/v1/discovery.grpc.pb.h"

namespace slotplane::control {

// ProxyDiscovery on gRPC's callback API with raw (ByteBuffer) messages: one WatchReactor per
// stream, no thread per stream. The Watch service needs no admin token; with `require_client_cert`
// (mTLS, --tls-client-ca) a stream whose peer presented no verified certificate is refused with
// UNAUTHENTICATED.
class WatchService final
    : public v1::ProxyDiscovery::WithRawCallbackMethod_Watch<v1::ProxyDiscovery::Service> {
 public:
  WatchService(WatchContext deps, bool require_client_cert)
      : deps_(std::move(deps)), require_client_cert_(require_client_cert) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Watch(
      grpc::CallbackServerContext* context) override;

 private:
  const WatchContext deps_;
  const bool require_client_cert_;
};

}  // namespace slotplane::control
