#include "dataplane/policy.h"

namespace slotplane::dataplane {
namespace {

struct ReadPolicyEntry {
  ReadPolicy policy;
  const char* name;
};

constexpr ReadPolicyEntry kReadPolicies[] = {
    {ReadPolicy::kMaster, "master"},   {ReadPolicy::kPreferMaster, "prefer-master"},
    {ReadPolicy::kReplica, "replica"}, {ReadPolicy::kPreferReplica, "prefer-replica"},
    {ReadPolicy::kAny, "any"},
};

}  // namespace

bool ParseReadPolicy(std::string_view text, ReadPolicy* policy) {
  for (const ReadPolicyEntry& entry : kReadPolicies) {
    if (text == entry.name) {
      *policy = entry.policy;
      return true;
    }
  }
  return false;
}

const char* ReadPolicyName(ReadPolicy policy) {
  for (const ReadPolicyEntry& entry : kReadPolicies) {
    if (entry.policy == policy) return entry.name;
  }
  return "master";
}

ProxyPolicy PolicyFromOptions(const ProxyOptions& options) {
  ProxyPolicy policy;
  policy.enable_cross_slot = options.enable_cross_slot;
  ParseReadPolicy(options.read_policy, &policy.read_policy);
  policy.log_level = options.log_level;
  policy.maxclients = options.maxclients;
  policy.proto_max_bulk_len = options.proto_max_bulk_len;
  policy.max_multibulk_len = options.max_multibulk_len;
  policy.client_query_buffer_limit = options.client_query_buffer_limit;
  policy.max_redirects = options.max_redirects;
  policy.tryagain_retries = options.tryagain_retries;
  policy.backend_user = options.auth_user;
  policy.backend_password = options.auth;
  return policy;
}

}  // namespace slotplane::dataplane
