#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/logging.h"
#include "common/option_table.h"
#include "common/output_buffer_limits.h"

namespace slotplane {

namespace v1 {
class Policy;  // proto/slotplane/v1/config.proto
}  // namespace v1

// Where read-only commands may go (Envoy's read policies).
enum class ReadPolicy { kMaster, kPreferMaster, kReplica, kPreferReplica, kAny };

// master | prefer-master | replica | prefer-replica | any, indexed by ReadPolicy.
extern const EnumNames kReadPolicyChoices;

// The fleet options: the settings a fleet of proxies shares. The control plane keeps them in its
// policy (v1::Policy) and sends them to every proxy; PROXY CONFIG SET and Admin.UpdatePolicy
// change them; a standalone proxy takes them from its own options. Everything that reads or
// writes them (the proxy's options and policy, the conversion of a received policy, the control
// plane's policy options) derives from this one table:
//
//   X(C++ type, FleetSettings field, default, kind("option-name", bounds...), v1::Policy field)
//
// Kinds: YesNo(name); Int(name, min, max); Size(name, min), a byte count written as Redis does
// (512mb); Enum(name, choices), stored as the choice's index; Word(name), text without spaces;
// Secret(name), text shown only as "(set)" and never echoed in errors or logs; OutputLimits(name),
// Redis's client-output-buffer-limit classes (common/output_buffer_limits.h) kept as the text
// Redis's CONFIG GET shows: a value names some classes and the others keep theirs;
// CommandList(name), Redis command names separated by commas or spaces, kept lower case, sorted,
// without repeats and joined by commas (at most kMaxCommandListNames; names checked against
// the command table once SetFleetCommandCatalog was called).
// The v1::Policy field: PROTO(f) is Policy.f, PROTO_LIMITS(f) Policy.limits.f and
// PROTO_BACKEND(f) Policy.backend.f. A proto enum numbers the choices from 1 (0, UNSPECIFIED,
// means the default); a proto string holds the choice's name.
//
// Adding a fleet option: its field in proto/slotplane/v1/config.proto, one row here, its use.
// clang-format off
#define SLOTPLANE_FLEET_OPTIONS(X)                                                                 \
  X(bool, enable_cross_slot, false, YesNo("enable-cross-slot"), PROTO(enable_cross_slot))          \
  X(ReadPolicy, read_policy, ReadPolicy::kMaster, Enum("read-policy", kReadPolicyChoices),         \
    PROTO(read_policy))                                                                            \
  X(LogLevel, log_level, LogLevel::kInfo, Enum("log-level", kLogLevelChoices), PROTO(log_level))   \
  X(int, maxclients, 10000, Int("maxclients", 1, 1000000), PROTO_LIMITS(maxclients))               \
  X(int64_t, proto_max_bulk_len, 512LL << 20, Size("proto-max-bulk-len", 1 << 20),                \
    PROTO_LIMITS(proto_max_bulk_len))                                                              \
  X(int64_t, max_multibulk_len, 1 << 20, Int("max-multibulk-len", 1, 1LL << 31),                   \
    PROTO_LIMITS(max_multibulk_len))                                                               \
  X(int64_t, client_query_buffer_limit, 1LL << 30, Size("client-query-buffer-limit", 1 << 20),     \
    PROTO_LIMITS(client_query_buffer_limit))                                                       \
  X(std::string, client_output_buffer_limit, kDefaultOutputBufferLimits,                           \
    OutputLimits("client-output-buffer-limit"), PROTO_LIMITS(client_output_buffer_limit))          \
  X(int, timeout, 0, Int("timeout", 0, 2147483647), PROTO_LIMITS(timeout))                         \
  X(int, max_redirects, 5, Int("max-redirects", 1, 100), PROTO_LIMITS(max_redirects))              \
  X(int, tryagain_retries, 5, Int("tryagain-retries", 0, 100), PROTO_LIMITS(tryagain_retries))     \
  X(int, failover_hold_timeout, 5000, Int("failover-hold-timeout", 0, 600000),                     \
    PROTO_LIMITS(failover_hold_timeout))                                                           \
  X(int, backend_timeout, 10000, Int("backend-timeout", 0, 3600000),                               \
    PROTO_LIMITS(backend_timeout))                                                                 \
  X(std::string, failover_resend_commands, "", CommandList("failover-resend-commands"),            \
    PROTO_LIMITS(failover_resend_commands))                                                        \
  X(int, tracking_table_max_keys, 1000000, Int("tracking-table-max-keys", 1, 2147483647),          \
    PROTO_LIMITS(tracking_table_max_keys))                                                         \
  X(std::string, auth, "", Secret("auth"), PROTO_BACKEND(password))                                \
  X(std::string, auth_user, "", Word("auth-user"), PROTO_BACKEND(user))                            \
  X(int, connections_pool_size, 10, Int("connections-pool-size", 0, 1000),                         \
    PROTO(connections_pool_size))                                                                  \
  X(int, connections_pool_min_size, 10, Int("connections-pool-min-size", 0, 1000),                 \
    PROTO(connections_pool_min_size))                                                              \
  X(int, connections_pool_spawn_every, 50, Int("connections-pool-spawn-every", 0, 60000),          \
    PROTO(connections_pool_spawn_every))                                                           \
  X(int, connections_pool_spawn_rate, 2, Int("connections-pool-spawn-rate", 0, 1000),              \
    PROTO(connections_pool_spawn_rate))                                                            \
  X(bool, dump_queries, false, YesNo("dump-queries"), PROTO(dump_queries))                         \
  X(bool, dump_buffer, false, YesNo("dump-buffer"), PROTO(dump_buffer))                            \
  X(bool, dump_queues, false, YesNo("dump-queues"), PROTO(dump_queues))
// clang-format on

// Every fleet option as a typed field with its default. The proxy's options and its policy are
// FleetSettings, so each option has one declaration.
struct FleetSettings {
#define SLOTPLANE_FLEET_FIELD(type, field, default_value, kind, proto) type field = default_value;
  SLOTPLANE_FLEET_OPTIONS(SLOTPLANE_FLEET_FIELD)
#undef SLOTPLANE_FLEET_FIELD
};

enum class FleetKind { kYesNo, kInt, kSize, kEnum, kWord, kSecret, kOutputLimits, kCommandList };

class AclCommandCatalog;  // common/acl_rules.h

// Most names one CommandList option holds.
inline constexpr size_t kMaxCommandListNames = 256;

// The command table CommandList options check names against (a command or a container; not a
// subcommand). Both binaries set it at start from the generated table; before that, and in code
// that never sets it, names are checked for their form only. Not thread-safe: call before any
// option is parsed.
void SetFleetCommandCatalog(const AclCommandCatalog* catalog);

// A fleet option's value in transit between a FleetSettings field, its text and its proto field:
// a number (yes/no, integer, size, a choice's index) or text.
using FleetValue = std::variant<int64_t, std::string>;

// One row of SLOTPLANE_FLEET_OPTIONS.
class FleetOption {
 public:
  // Name, kind and bounds: the row's kind column.
  struct Spec {
    const char* name;
    FleetKind kind;
    int64_t min = 0;
    int64_t max = 0;
    const EnumNames* choices = nullptr;  // kEnum
  };
  // Reads and writes the option's field in a Target (FleetSettings or v1::Policy).
  template <typename Target>
  struct Access {
    FleetValue (*get)(const Target&);
    void (*set)(Target*, const FleetValue&);
  };

  FleetOption(Spec spec, Access<FleetSettings> field, Access<v1::Policy> proto);

  const char* name() const { return spec_.name; }
  FleetKind kind() const { return spec_.kind; }
  bool secret() const { return spec_.kind == FleetKind::kSecret; }
  bool yes_no() const { return spec_.kind == FleetKind::kYesNo; }
  // Its config-file line may hold several words (`client-output-buffer-limit normal 1mb 0 0`),
  // and each occurrence adds to the value.
  bool multi_word() const { return spec_.kind == FleetKind::kOutputLimits; }

  // Sets the option from its config-file text (also PROXY CONFIG SET's and UpdatePolicy's
  // values), validated the same way everywhere. Errors are InvalidArgument naming the option;
  // the target is unchanged then.
  absl::Status Parse(std::string_view text, FleetSettings* settings) const;
  absl::Status Parse(std::string_view text, v1::Policy* policy) const;

  // The value as PROXY CONFIG GET shows it: yes/no, a number, a choice's name, text; a secret as
  // "(set)" or "". A policy's unset choice shows the default.
  std::string Show(const FleetSettings& settings) const;
  std::string Show(const v1::Policy& policy) const;

  // Copies the option from a policy a proxy received. A field the policy leaves unset (0 or
  // empty; yes/no options are always set) leaves `settings` as it is. Errors name the option and
  // the value it does not allow: "max-redirects 1000 is out of range (1..100)", "unknown read
  // policy 42".
  absl::Status Take(const v1::Policy& policy, FleetSettings* settings) const;
  // Writes the option's value into a policy.
  void Put(const FleetSettings& settings, v1::Policy* policy) const;

 private:
  // Values of a FleetSettings field: numbers, an enum as the choice's index. `current` is the
  // value `text` changes (kOutputLimits: the classes the text does not name); empty: the default.
  absl::StatusOr<FleetValue> FromText(std::string_view text, const FleetValue& current = {}) const;
  std::string Format(const FleetValue& value) const;
  // The proto field's value: the same but for an enum (its name, or its index + 1).
  FleetValue ToProto(const FleetValue& value) const;
  // nullopt: unset in the proto. Errors: a value the option does not allow.
  absl::StatusOr<std::optional<FleetValue>> FromProto(const FleetValue& value) const;
  absl::StatusOr<std::optional<FleetValue>> EnumFromProto(const FleetValue& value) const;

  Spec spec_;
  Access<FleetSettings> field_;
  Access<v1::Policy> proto_;
  bool proto_is_text_;  // the proto field of an enum is a string (else a proto enum)
  FleetValue default_;
};

// The rows, in table order.
const std::vector<FleetOption>& FleetOptions();
// The fleet option named `name` (ASCII case ignored), or nullptr.
const FleetOption* FindFleetOption(std::string_view name);

// `defs` followed by `make(option)` for every fleet option that `defs` does not name: how a
// daemon's option table takes in every fleet option, present and future, without listing it.
template <typename T, typename Make>
std::vector<OptionDef<T>> WithFleetOptions(std::vector<OptionDef<T>> defs, Make make) {
  for (const FleetOption& option : FleetOptions()) {
    bool named = false;
    for (const OptionDef<T>& def : defs) named = named || def.name == option.name();
    if (!named) defs.push_back(make(option));
  }
  return defs;
}

// Every fleet option of `settings` into `policy`.
void PutFleetSettings(const FleetSettings& settings, v1::Policy* policy);
// Every fleet option `policy` sets into `settings` (see FleetOption::Take); the first error.
absl::Status TakeFleetSettings(const v1::Policy& policy, FleetSettings* settings);

}  // namespace slotplane
