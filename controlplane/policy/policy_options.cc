#include "controlplane/policy/policy_options.h"

#include "absl/strings/str_cat.h"
#include "common/fleet_options.h"
#include "common/strings.h"

namespace slotplane::control {
namespace {

// Options of slotplane-proxy that only make sense for one process.
constexpr const char* kPerProcessOptions[] = {"port",
                                              "bind",
                                              "threads",
                                              "tcpkeepalive",
                                              "tcp-backlog",
                                              "daemonize",
                                              "pidfile",
                                              "logfile",
                                              "cluster",
                                              "entry-point",
                                              "metrics-port",
                                              "metrics-bind",
                                              "topology-refresh-interval",
                                              "backend-connect-timeout",
                                              "control-plane",
                                              "disable-multiplexing"};

}  // namespace

v1::Policy DefaultPolicy() {
  v1::Policy policy;
  PutFleetSettings(FleetSettings(), &policy);
  return policy;
}

absl::Status SetPolicyOption(v1::Policy* policy, const std::string& name,
                             const std::string& value) {
  if (const FleetOption* option = FindFleetOption(name)) return option->Parse(value, policy);
  for (const char* per_process : kPerProcessOptions) {
    if (EqualsIgnoreCase(name, per_process)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "option '", per_process, "' is per proxy process and cannot be set fleet-wide"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown option '", Echoed(name), "'"));
}

bool IsPolicyOption(const std::string& name) { return FindFleetOption(name) != nullptr; }

std::map<std::string, std::string> PolicyOptionValues(const v1::Policy& policy) {
  std::map<std::string, std::string> values;
  for (const FleetOption& option : FleetOptions()) values[option.name()] = option.Show(policy);
  return values;
}

std::vector<std::string> PolicyOptionNames() {
  std::vector<std::string> names;
  for (const FleetOption& option : FleetOptions()) names.push_back(option.name());
  return names;
}

bool IsSecretOption(const std::string& name) {
  const FleetOption* option = FindFleetOption(name);
  return option != nullptr && option->secret();
}

v1::Policy RedactedPolicy(const v1::Policy& policy) {
  v1::Policy redacted = policy;
  for (const FleetOption& option : FleetOptions()) {
    if (option.secret()) option.Parse("", &redacted).IgnoreError();  // a secret takes any text
  }
  for (v1::ClientUser& user : *redacted.mutable_users()) {
    user.clear_password_sha256();
    user.clear_password_salt();
    user.clear_password_salted_sha256();
  }
  return redacted;
}

}  // namespace slotplane::control
