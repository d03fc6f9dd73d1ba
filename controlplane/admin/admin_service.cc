#include "controlplane/admin/admin_service.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/cluster_view_proto.h"
#include "common/logging.h"
#include "common/strings.h"
#include "controlplane/admin/version_waiter.h"
#include "controlplane/policy/policy_options.h"
#include "controlplane/policy/users.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/server_context.h"

namespace slotplane::control {
namespace {

// Longest RefreshTopology wait (the call's deadline may be shorter).
constexpr absl::Duration kMaxRefreshWait = absl::Seconds(30);

// absl and gRPC share the canonical code numbers.
grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

std::string Origin(const std::string& origin, const grpc::ServerContext& context) {
  return origin.empty() ? context.peer() : absl::StrCat(origin, " from ", context.peer());
}

// "enable-cross-slot=yes, auth=(secret)": what an update changes, for the log (values as
// Echoed shows them, never a secret's).
std::string DescribeOptions(const std::vector<std::pair<std::string, std::string>>& options) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : options) {
    parts.push_back(
        absl::StrCat(Echoed(name), "=", IsSecretOption(name) ? "(secret)" : Echoed(value)));
  }
  return absl::StrJoin(parts, ", ");
}

absl::Duration RemainingTime(const grpc::ServerContext& context, absl::Duration cap) {
  const auto left = context.deadline() - std::chrono::system_clock::now();
  return std::min(cap, absl::FromChrono(left));
}

}  // namespace

template <typename Body>
grpc::Status AdminService::Call(const char* method, grpc::ServerContext* context, Body&& body) {
  grpc::Status status = deps_.auth->Check(*context);
  if (status.ok()) status = body();
  deps_.metrics->CountAdminCall(method, status.error_code());
  if (!status.ok()) {
    SP_LOG(kDebug) << "admin " << method << " from " << context->peer() << ": "
                   << StatusCodeName(status.error_code()) << " " << status.error_message();
  }
  return status;
}

grpc::Status AdminService::GetConfig(grpc::ServerContext* context, const v1::GetConfigRequest*,
                                     v1::GetConfigResponse* response) {
  return Call("GetConfig", context, [&] {
    const StateView view = deps_.state->Current();
    response->set_version(view.version);
    *response->mutable_policy() = RedactedPolicy(view.policy);
    for (const auto& [name, value] : PolicyOptionValues(view.policy)) {
      (*response->mutable_options())[name] = value;
    }
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::UpdatePolicy(grpc::ServerContext* context,
                                        const v1::UpdatePolicyRequest* request,
                                        v1::UpdatePolicyResponse* response) {
  return Call("UpdatePolicy", context, [&] {
    if (request->options().empty()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no options to change");
    }
    // Sorted, so that errors and the log do not depend on the map's order.
    std::vector<std::pair<std::string, std::string>> options(request->options().begin(),
                                                             request->options().end());
    std::sort(options.begin(), options.end());
    auto version = deps_.state->EditPolicy(
        [&](v1::Policy* policy) {
          for (const auto& [name, value] : options) {
            if (absl::Status s = SetPolicyOption(policy, name, value); !s.ok()) return s;
          }
          return absl::OkStatus();
        },
        request->expected_version(),
        absl::StrCat("policy set ", DescribeOptions(options), " by ",
                     Origin(request->origin(), *context)));
    if (!version.ok()) return ToGrpc(version.status());
    response->set_version(*version);
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::AddUser(grpc::ServerContext* context, const v1::AddUserRequest* request,
                                   v1::UserResponse* response) {
  return Call("AddUser", context, [&] {
    const v1::UserSpec& spec = request->user();
    auto version = deps_.state->EditPolicy(
        [&](v1::Policy* policy) { return control::AddUser(policy, spec); }, 0,
        absl::StrCat("user '", spec.name(), "' added by ", context->peer()));
    if (!version.ok()) return ToGrpc(version.status());
    response->set_version(*version);
    const StateView view = deps_.state->Current();
    if (const v1::ClientUser* user = FindUser(view.policy, spec.name())) {
      *response->mutable_user() = UserInfoOf(*user);
    }
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::UpdateUser(grpc::ServerContext* context,
                                      const v1::UpdateUserRequest* request,
                                      v1::UserResponse* response) {
  return Call("UpdateUser", context, [&] {
    const v1::UserSpec& spec = request->user();
    auto version = deps_.state->EditPolicy(
        [&](v1::Policy* policy) { return control::UpdateUser(policy, spec); }, 0,
        absl::StrCat("user '", spec.name(), "' changed by ", context->peer()));
    if (!version.ok()) return ToGrpc(version.status());
    response->set_version(*version);
    const StateView view = deps_.state->Current();
    if (const v1::ClientUser* user = FindUser(view.policy, spec.name())) {
      *response->mutable_user() = UserInfoOf(*user);
    }
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::RemoveUser(grpc::ServerContext* context,
                                      const v1::RemoveUserRequest* request,
                                      v1::RemoveUserResponse* response) {
  return Call("RemoveUser", context, [&] {
    auto version = deps_.state->EditPolicy(
        [&](v1::Policy* policy) { return control::RemoveUser(policy, request->name()); }, 0,
        absl::StrCat("user '", request->name(), "' removed by ", context->peer()));
    if (!version.ok()) return ToGrpc(version.status());
    response->set_version(*version);
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::ListUsers(grpc::ServerContext* context, const v1::ListUsersRequest*,
                                     v1::ListUsersResponse* response) {
  return Call("ListUsers", context, [&] {
    const StateView view = deps_.state->Current();
    for (const v1::ClientUser& user : view.policy.users())
      *response->add_users() = UserInfoOf(user);
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::GetTopology(grpc::ServerContext* context, const v1::GetTopologyRequest*,
                                       v1::GetTopologyResponse* response) {
  return Call("GetTopology", context, [&] {
    const StateView view = deps_.state->Current();
    const PollStatus poll = deps_.poller->Status();
    response->set_version(view.version);
    if (view.topology != nullptr) TopologyToProto(*view.topology, response->mutable_topology());
    response->set_refreshed_unix_ms(poll.refreshed_unix_ms);
    response->set_last_error(poll.last_error);
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::RefreshTopology(grpc::ServerContext* context,
                                           const v1::RefreshTopologyRequest*,
                                           v1::RefreshTopologyResponse* response) {
  return Call("RefreshTopology", context, [&] {
    TopologyPoller::RefreshResult result =
        deps_.poller->RefreshNow(RemainingTime(*context, kMaxRefreshWait));
    if (!result.status.ok()) return ToGrpc(result.status);
    response->set_version(deps_.state->Current().version);
    response->set_changed(result.changed);
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::ListProxies(grpc::ServerContext* context, const v1::ListProxiesRequest*,
                                       v1::ListProxiesResponse* response) {
  return Call("ListProxies", context, [&] {
    response->set_current_version(deps_.state->Current().version);
    for (v1::ProxyInfo& info : deps_.hub->Proxies()) *response->add_proxies() = std::move(info);
    return grpc::Status::OK;
  });
}

grpc::Status AdminService::GetControlPlane(grpc::ServerContext* context,
                                           const v1::GetControlPlaneRequest*,
                                           v1::GetControlPlaneResponse* response) {
  return Call("GetControlPlane", context, [&] {
    if (deps_.describe_control_plane) deps_.describe_control_plane(response);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* AdminService::WaitForVersion(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  v1::WaitForVersionRequest parsed;
  grpc::Status status = deps_.auth->Check(*context);
  if (status.ok()) {
    grpc::ByteBuffer bytes(*request);  // Deserialize consumes its buffer; this shares the slices
    if (!grpc::SerializationTraits<v1::WaitForVersionRequest>::Deserialize(&bytes, &parsed).ok()) {
      status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed WaitForVersionRequest");
    }
  }
  return VersionWaiter::Start(context, parsed, response, deps_.hub, deps_.metrics, status);
}

}  // namespace slotplane::control
