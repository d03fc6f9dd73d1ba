#include "controlplane/policy/policy_options.h"

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace slotplane::control {
namespace {

using Setter = std::function<absl::Status(v1::Policy*, const std::string& value)>;
using Getter = std::function<std::string(const v1::Policy&)>;

struct OptionDef {
  const char* name;
  Setter set;
  Getter get;
  bool secret = false;
};

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

absl::Status BadValue(const std::string& name, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value '", value, "' for option '", name, "': ", why));
}

// Sizes as Redis's config reads them: a number with an optional k/kb/m/mb/g/gb suffix.
bool ParseMemory(std::string value, int64_t* out) {
  value = absl::AsciiStrToLower(value);
  struct Suffix {
    const char* text;
    int64_t unit;
  };
  static constexpr Suffix kSuffixes[] = {{"gb", 1LL << 30}, {"mb", 1LL << 20}, {"kb", 1LL << 10},
                                         {"g", 1000000000}, {"m", 1000000},    {"k", 1000}};
  int64_t unit = 1;
  for (const Suffix& s : kSuffixes) {
    if (absl::EndsWith(value, s.text)) {
      unit = s.unit;
      value.resize(value.size() - std::strlen(s.text));
      break;
    }
  }
  int64_t n;
  if (!absl::SimpleAtoi(value, &n) || n < 0 || n > std::numeric_limits<int64_t>::max() / unit) {
    return false;
  }
  *out = n * unit;
  return true;
}

OptionDef IntOption(const char* name, int64_t min, int64_t max,
                    std::function<void(v1::Policy*, int64_t)> set,
                    std::function<int64_t(const v1::Policy&)> get) {
  return {name,
          [=](v1::Policy* p, const std::string& v) -> absl::Status {
            int64_t n;
            if (!absl::SimpleAtoi(v, &n)) return BadValue(name, v, "not an integer");
            if (n < min || n > max) {
              return BadValue(name, v, absl::StrCat("must be between ", min, " and ", max));
            }
            set(p, n);
            return absl::OkStatus();
          },
          [=](const v1::Policy& p) { return absl::StrCat(get(p)); }};
}

OptionDef MemoryOption(const char* name, int64_t min, std::function<void(v1::Policy*, int64_t)> set,
                       std::function<int64_t(const v1::Policy&)> get) {
  return {name,
          [=](v1::Policy* p, const std::string& v) -> absl::Status {
            int64_t n;
            if (!ParseMemory(v, &n)) return BadValue(name, v, "not a size (e.g. 512mb)");
            if (n < min) return BadValue(name, v, absl::StrCat("must be at least ", min));
            set(p, n);
            return absl::OkStatus();
          },
          [=](const v1::Policy& p) { return absl::StrCat(get(p)); }};
}

OptionDef BoolOption(const char* name, std::function<void(v1::Policy*, bool)> set,
                     std::function<bool(const v1::Policy&)> get) {
  return {name,
          [=](v1::Policy* p, const std::string& v) -> absl::Status {
            const std::string lower = absl::AsciiStrToLower(v);
            if (lower == "yes" || lower == "1" || lower == "true") {
              set(p, true);
            } else if (lower == "no" || lower == "0" || lower == "false") {
              set(p, false);
            } else {
              return BadValue(name, v, "must be yes or no");
            }
            return absl::OkStatus();
          },
          [=](const v1::Policy& p) { return std::string(get(p) ? "yes" : "no"); }};
}

struct ReadPolicyName {
  v1::ReadPolicy policy;
  const char* name;
};
constexpr ReadPolicyName kReadPolicies[] = {
    {v1::READ_POLICY_MASTER, "master"},   {v1::READ_POLICY_PREFER_MASTER, "prefer-master"},
    {v1::READ_POLICY_REPLICA, "replica"}, {v1::READ_POLICY_PREFER_REPLICA, "prefer-replica"},
    {v1::READ_POLICY_ANY, "any"},
};

OptionDef ReadPolicyOption() {
  return {"read-policy",
          [](v1::Policy* p, const std::string& v) -> absl::Status {
            const std::string lower = absl::AsciiStrToLower(v);
            for (const ReadPolicyName& entry : kReadPolicies) {
              if (lower == entry.name) {
                p->set_read_policy(entry.policy);
                return absl::OkStatus();
              }
            }
            return BadValue("read-policy", v,
                            "must be master, prefer-master, replica, prefer-replica or any");
          },
          [](const v1::Policy& p) -> std::string {
            for (const ReadPolicyName& entry : kReadPolicies) {
              if (p.read_policy() == entry.policy) return entry.name;
            }
            return "master";  // READ_POLICY_UNSPECIFIED
          }};
}

OptionDef LogLevelOption() {
  return {"log-level",
          [](v1::Policy* p, const std::string& v) -> absl::Status {
            LogLevel level;
            if (!ParseLogLevel(absl::AsciiStrToLower(v), &level)) {
              return BadValue("log-level", v, "must be debug, info, success, warning or error");
            }
            p->set_log_level(LogLevelName(level));
            return absl::OkStatus();
          },
          [](const v1::Policy& p) { return p.log_level().empty() ? "info" : p.log_level(); }};
}

OptionDef AuthOption() {
  return {"auth",
          [](v1::Policy* p, const std::string& v) -> absl::Status {
            p->mutable_backend()->set_password(v);
            return absl::OkStatus();
          },
          [](const v1::Policy& p) {
            return std::string(p.backend().password().empty() ? "" : "(set)");
          },
          /*secret=*/true};
}

OptionDef AuthUserOption() {
  return {"auth-user",
          [](v1::Policy* p, const std::string& v) -> absl::Status {
            if (absl::StrContains(v, ' ')) return BadValue("auth-user", v, "contains a space");
            p->mutable_backend()->set_user(v);
            return absl::OkStatus();
          },
          [](const v1::Policy& p) { return p.backend().user(); }};
}

// Field accessors for the Limits message, which is nested.
#define SP_LIMIT(field)                                                  \
  [](v1::Policy* p, int64_t n) { p->mutable_limits()->set_##field(n); }, \
      [](const v1::Policy& p) { return static_cast<int64_t>(p.limits().field()); }
#define SP_FIELD(field) \
  [](v1::Policy* p, auto n) { p->set_##field(n); }, [](const v1::Policy& p) { return p.field(); }

const std::vector<OptionDef>& Options() {
  static const auto* options = new std::vector<OptionDef>{
      BoolOption("enable-cross-slot", SP_FIELD(enable_cross_slot)),
      ReadPolicyOption(),
      LogLevelOption(),
      IntOption("maxclients", 1, 1000000, SP_LIMIT(maxclients)),
      MemoryOption("proto-max-bulk-len", 1024 * 1024, SP_LIMIT(proto_max_bulk_len)),
      IntOption("max-multibulk-len", 1, 1LL << 31, SP_LIMIT(max_multibulk_len)),
      MemoryOption("client-query-buffer-limit", 1024 * 1024, SP_LIMIT(client_query_buffer_limit)),
      IntOption("max-redirects", 1, 100, SP_LIMIT(max_redirects)),
      IntOption("tryagain-retries", 0, 100, SP_LIMIT(tryagain_retries)),
      AuthOption(),
      AuthUserOption(),
      IntOption("connections-pool-size", 0, 1000, SP_FIELD(connections_pool_size)),
      IntOption("connections-pool-min-size", 0, 1000, SP_FIELD(connections_pool_min_size)),
      IntOption("connections-pool-spawn-every", 0, 60000, SP_FIELD(connections_pool_spawn_every)),
      IntOption("connections-pool-spawn-rate", 0, 1000, SP_FIELD(connections_pool_spawn_rate)),
      BoolOption("dump-queries", SP_FIELD(dump_queries)),
      BoolOption("dump-buffer", SP_FIELD(dump_buffer)),
      BoolOption("dump-queues", SP_FIELD(dump_queues)),
  };
  return *options;
}

#undef SP_LIMIT
#undef SP_FIELD

const OptionDef* FindOption(const std::string& name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const OptionDef& def : Options()) {
    if (lower == def.name) return &def;
  }
  return nullptr;
}

}  // namespace

v1::Policy DefaultPolicy() {
  v1::Policy policy;
  policy.set_enable_cross_slot(false);
  policy.set_read_policy(v1::READ_POLICY_MASTER);
  policy.set_log_level("info");
  v1::Limits* limits = policy.mutable_limits();
  limits->set_maxclients(10000);
  limits->set_proto_max_bulk_len(512LL * 1024 * 1024);
  limits->set_max_multibulk_len(1024 * 1024);
  limits->set_client_query_buffer_limit(1024LL * 1024 * 1024);
  limits->set_max_redirects(5);
  limits->set_tryagain_retries(5);
  policy.set_connections_pool_size(10);
  policy.set_connections_pool_min_size(10);
  policy.set_connections_pool_spawn_every(50);
  policy.set_connections_pool_spawn_rate(2);
  policy.mutable_backend();  // present, empty: no AUTH
  return policy;
}

absl::Status SetPolicyOption(v1::Policy* policy, const std::string& name,
                             const std::string& value) {
  const OptionDef* def = FindOption(name);
  if (def != nullptr) return def->set(policy, value);
  const std::string lower = absl::AsciiStrToLower(name);
  for (const char* per_process : kPerProcessOptions) {
    if (lower == per_process) {
      return absl::InvalidArgumentError(
          absl::StrCat("option '", lower, "' is per proxy process and cannot be set fleet-wide"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown option '", name, "'"));
}

bool IsPolicyOption(const std::string& name) { return FindOption(name) != nullptr; }

std::map<std::string, std::string> PolicyOptionValues(const v1::Policy& policy) {
  std::map<std::string, std::string> values;
  for (const OptionDef& def : Options()) values[def.name] = def.get(policy);
  return values;
}

std::vector<std::string> PolicyOptionNames() {
  std::vector<std::string> names;
  for (const OptionDef& def : Options()) names.push_back(def.name);
  return names;
}

bool IsSecretOption(const std::string& name) {
  const OptionDef* def = FindOption(name);
  return def != nullptr && def->secret;
}

v1::Policy RedactedPolicy(const v1::Policy& policy) {
  v1::Policy redacted = policy;
  redacted.mutable_backend()->clear_password();
  for (v1::ClientUser& user : *redacted.mutable_users()) user.clear_password_sha256();
  return redacted;
}

}  // namespace slotplane::control
