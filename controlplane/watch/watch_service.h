#pragma once

#include "common/log_throttle.h"
#include "controlplane/auth/token_auth.h"
#include "controlplane/watch/watch_reactor.h"
#include "slotplane/v1/discovery.grpc.pb.h"

namespace slotplane::control {

// How a watch stream proves it comes from a proxy of the fleet. The stream carries the backend
// password and the user digests, so it is never open: the control plane refuses to start unless
// at least one of the two is configured, and a stream must pass every configured one.
struct WatchCredentials {
  const TokenAuth* proxy_token = nullptr;  // open: no token required
  bool require_client_cert = false;        // mTLS (--tls-client-ca): a verified certificate
};

// ProxyDiscovery on gRPC's callback API with raw (ByteBuffer) messages: one WatchReactor per
// stream, no thread per stream. A stream without the proxy credential (`authorization: Bearer
// <proxy token>`, a verified client certificate) is refused with UNAUTHENTICATED before it gets
// anything; the admin token is not a proxy credential.
class WatchService final
    : public v1::ProxyDiscovery::WithRawCallbackMethod_Watch<v1::ProxyDiscovery::Service> {
 public:
  WatchService(WatchContext deps, WatchCredentials credentials)
      : deps_(std::move(deps)), credentials_(credentials) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Watch(
      grpc::CallbackServerContext* context) override;

 private:
  // OK, or UNAUTHENTICATED naming what is missing (never the token).
  grpc::Status Authenticate(grpc::CallbackServerContext* context) const;

  const WatchContext deps_;
  const WatchCredentials credentials_;
  // Anyone who reaches the port can open refused streams in a loop: one log line a second.
  LogThrottle refused_log_{1000};
};

}  // namespace slotplane::control
