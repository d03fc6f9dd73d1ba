#pragma once

#include <functional>

#include "controlplane/auth/token_auth.h"
#include "controlplane/discovery/topology_poller.h"
#include "controlplane/metrics/metrics.h"
#include "controlplane/state/config_state.h"
#include "controlplane/watch/watch_hub.h"
#include "slotplane/v1/admin.grpc.pb.h"

namespace slotplane::control {

struct AdminContext {
  ConfigState* state = nullptr;
  TopologyPoller* poller = nullptr;
  WatchHub* hub = nullptr;
  ControlMetrics* metrics = nullptr;
  const TokenAuth* auth = nullptr;  // the admin token
  // GetControlPlane's answer (store, replicas), filled by the wiring; null: store only.
  std::function<void(v1::GetControlPlaneResponse*)> describe_control_plane;
};

// The Admin service. Calls that may block — a store write (fsync), a topology refresh — are
// ordinary synchronous handlers on gRPC's small pool of sync threads; WaitForVersion, which may
// wait for minutes, is on the callback API and holds no thread (VersionWaiter). Every call needs
// the bearer token when one is configured; secrets are never returned or logged.
//
// WaitForVersion is a raw method (ByteBuffer in and out) so that a request that does not parse is
// answered INVALID_ARGUMENT; gRPC's typed callback handler would answer UNIMPLEMENTED.
class AdminService final
    : public v1::Admin::WithRawCallbackMethod_WaitForVersion<v1::Admin::Service> {
 public:
  explicit AdminService(AdminContext deps) : deps_(deps) {}

  grpc::Status GetConfig(grpc::ServerContext* context, const v1::GetConfigRequest* request,
                         v1::GetConfigResponse* response) override;
  grpc::Status UpdatePolicy(grpc::ServerContext* context, const v1::UpdatePolicyRequest* request,
                            v1::UpdatePolicyResponse* response) override;
  grpc::Status AddUser(grpc::ServerContext* context, const v1::AddUserRequest* request,
                       v1::UserResponse* response) override;
  grpc::Status UpdateUser(grpc::ServerContext* context, const v1::UpdateUserRequest* request,
                          v1::UserResponse* response) override;
  grpc::Status RemoveUser(grpc::ServerContext* context, const v1::RemoveUserRequest* request,
                          v1::RemoveUserResponse* response) override;
  grpc::Status ListUsers(grpc::ServerContext* context, const v1::ListUsersRequest* request,
                         v1::ListUsersResponse* response) override;
  grpc::Status GetTopology(grpc::ServerContext* context, const v1::GetTopologyRequest* request,
                           v1::GetTopologyResponse* response) override;
  grpc::Status RefreshTopology(grpc::ServerContext* context,
                               const v1::RefreshTopologyRequest* request,
                               v1::RefreshTopologyResponse* response) override;
  grpc::Status ListProxies(grpc::ServerContext* context, const v1::ListProxiesRequest* request,
                           v1::ListProxiesResponse* response) override;
  grpc::Status GetControlPlane(grpc::ServerContext* context,
                               const v1::GetControlPlaneRequest* request,
                               v1::GetControlPlaneResponse* response) override;
  grpc::ServerUnaryReactor* WaitForVersion(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;

 private:
  // Checks the token, runs `body`, counts the call by method and status code.
  template <typename Body>
  grpc::Status Call(const char* method, grpc::ServerContext* context, Body&& body);

  const AdminContext deps_;
};

}  // namespace slotplane::control
