#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/fleet_options.h"
#include "common/logging.h"
#include "dataplane/core/client_user.h"
#include "dataplane/core/proxy_config.h"

namespace slotplane::dataplane {

struct CommandInfo;  // dataplane/command/command_table.h

// The settings that may change while the proxy runs and that a fleet shares (the control plane
// distributes them; standalone, they come from the options): the fleet options
// (common/fleet_options.h, the FleetSettings fields) and the client users. Immutable once built:
// a change is a new ProxyPolicy, handed to every worker like a new ClusterView; requests in flight
// finish under the policy they started with. Per-process settings (port, bind, threads, ...) are
// not here.
struct ProxyPolicy : FleetSettings {
  uint64_t version = 0;
  // The complete set of client users. Empty: the implicit `default` user with no password, so
  // clients need not authenticate. Otherwise a client must authenticate unless `default` is in
  // the list, enabled and nopass (Redis's rule for new connections).
  std::vector<ClientUser> users;
  // Derived by FinishPolicy(): whether clients must authenticate (from `users`), and the
  // credentials the proxy presents to the cluster nodes (`auth_user` and `auth`) under the names
  // the workers use.
  bool auth_required = false;
  std::string backend_user;
  std::string backend_password;
  // `client_output_buffer_limit` as numbers, for the clients' hot path; and per class (normal,
  // pubsub) the reply bytes from which a client needs its limits checked: the lowest limit set,
  // SIZE_MAX when none is.
  OutputBufferLimits output_limits;
  size_t output_check_bytes[2] = {SIZE_MAX, SIZE_MAX};
  // `failover_resend_commands` by command id (CommandInfo::id; a container's subcommands too):
  // whether a write that may have run on a lost connection is sent again after the failover.
  std::vector<bool> resend_after_loss;

  // Whether `info` (a command or subcommand) may be sent again after its connection was lost
  // once it was written: read-only commands always; writes the policy lists.
  bool ResendableAfterLoss(const CommandInfo& info) const;

  // The user named `name`, or nullptr.
  const ClientUser* FindUser(std::string_view name) const;
};

using ProxyPolicyPtr = std::shared_ptr<const ProxyPolicy>;

// Computes the derived fields after users or backend credentials changed.
void FinishPolicy(ProxyPolicy* policy);

ProxyPolicy PolicyFromOptions(const ProxyOptions& options);

// The client users that `requirepass` and `user` options describe (requirepass sets the
// password of `default`, as in Redis).
std::vector<ClientUser> UsersFromOptions(const ProxyOptions& options);

// Makes `password` the only password of the `default` user in `users` (added, enabled and with
// every permission when absent; permissions of an existing one are kept); empty makes it nopass.
void SetRequirePass(std::vector<ClientUser>* users, const std::string& password);

// True for options that belong to the policy: the fleet options, `requirepass` and `user` (the
// ones PROXY CONFIG SET may change at runtime, but `user`). Every other option is per process.
bool IsPolicyOption(std::string_view name);
// Names of the policy options, in table order.
std::vector<std::string> PolicyOptionNames();

// The value of a policy option as PROXY CONFIG GET shows it (credentials only as "(set)").
absl::StatusOr<std::string> GetPolicyOption(const ProxyPolicy& policy, std::string_view name);
// Sets a policy option from its config-file text, validated exactly as the config file is.
absl::Status SetPolicyOption(ProxyPolicy* policy, std::string_view name, const std::string& value);

}  // namespace slotplane::dataplane
