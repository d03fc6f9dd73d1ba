#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "slotplane/v1/config.pb.h"

// The fleet-wide options of a Policy by their proxy.conf names ("enable-cross-slot",
// "maxclients", ...): parsing and validation of proxy.conf values, display as PROXY CONFIG GET
// shows them, and the defaults of a fresh policy, all from the fleet option table
// (common/fleet_options.h). Used by the admin API (UpdatePolicy, GetConfig) and by
// slotplane-control's own options (initial values of a new store).
namespace slotplane::control {

// A policy with every field set to redis-cluster-proxy's default (a fresh store starts here).
v1::Policy DefaultPolicy();

// Sets option `name` (case-insensitive) of `policy` from a proxy.conf value. Errors are
// InvalidArgument and name the option: an unknown option, an option that belongs to one proxy
// process (port, bind, threads, ...), or a bad value.
absl::Status SetPolicyOption(v1::Policy* policy, const std::string& name, const std::string& value);

// True for names SetPolicyOption accepts.
bool IsPolicyOption(const std::string& name);

// Every fleet-wide option with its value as PROXY CONFIG GET shows it; secrets (auth) show
// "(set)" or "".
std::map<std::string, std::string> PolicyOptionValues(const v1::Policy& policy);

// Names of the fleet-wide options, in table order.
std::vector<std::string> PolicyOptionNames();

// True for option names that are a credential: their values are never logged or returned.
bool IsSecretOption(const std::string& name);

// The policy without secrets: no password hashes, no backend password (GetConfig, logs).
v1::Policy RedactedPolicy(const v1::Policy& policy);

}  // namespace slotplane::control
