#include "common/fleet_options.h"

#include <algorithm>
#include <limits>
#include <set>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/acl_rules.h"
#include "common/strings.h"
#include "slotplane/v1/config.pb.h"

namespace slotplane {
namespace {

constexpr const char* kReadPolicyNames[] = {"master", "prefer-master", "replica", "prefer-replica",
                                            "any"};

// Values carry what their kind needs; a mismatch (impossible by construction) reads as 0 or "".
int64_t Number(const FleetValue& value) {
  const int64_t* number = std::get_if<int64_t>(&value);
  return number != nullptr ? *number : 0;
}

std::string Text(const FleetValue& value) {
  const std::string* text = std::get_if<std::string>(&value);
  return text != nullptr ? *text : std::string();
}

// A field's value (bool, integer, enum, string) as a FleetValue, and back.
template <typename Field>
FleetValue ToValue(const Field& field) {
  if constexpr (std::is_same_v<Field, std::string>) {
    return field;
  } else {
    return static_cast<int64_t>(field);
  }
}

template <typename Field>
Field FromValue(const FleetValue& value) {
  if constexpr (std::is_same_v<Field, std::string>) {
    return Text(value);
  } else {
    return static_cast<Field>(Number(value));
  }
}

template <typename T>
absl::StatusOr<FleetValue> NumberOrError(absl::StatusOr<T> parsed) {
  if (!parsed.ok()) return parsed.status();
  return FleetValue(static_cast<int64_t>(*parsed));
}

// The kind column of SLOTPLANE_FLEET_OPTIONS.
FleetOption::Spec YesNo(const char* name) { return {name, FleetKind::kYesNo}; }
FleetOption::Spec Int(const char* name, int64_t min, int64_t max) {
  return {name, FleetKind::kInt, min, max};
}
FleetOption::Spec Size(const char* name, int64_t min) {
  return {name, FleetKind::kSize, min, std::numeric_limits<int64_t>::max()};
}
FleetOption::Spec Enum(const char* name, const EnumNames& choices) {
  return {name, FleetKind::kEnum, 0, static_cast<int64_t>(choices.names.size()) - 1, &choices};
}
FleetOption::Spec Word(const char* name) { return {name, FleetKind::kWord}; }
FleetOption::Spec Secret(const char* name) { return {name, FleetKind::kSecret}; }
FleetOption::Spec OutputLimits(const char* name) { return {name, FleetKind::kOutputLimits}; }
FleetOption::Spec CommandList(const char* name) { return {name, FleetKind::kCommandList}; }

const AclCommandCatalog* command_catalog = nullptr;  // SetFleetCommandCatalog

// kCommandList: names separated by commas or spaces → lower case, sorted, unique, comma-joined.
absl::StatusOr<FleetValue> CommandListFromText(std::string_view name, std::string_view text) {
  std::set<std::string> names;
  for (absl::string_view part : absl::StrSplit(AbslView(text), absl::ByAnyChar(", \t"))) {
    if (part.empty()) continue;
    std::string command = absl::AsciiStrToLower(part);
    const bool well_formed =
        command.size() <= 64 && std::all_of(command.begin(), command.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
    if (!well_formed) return BadOptionValue(name, text, "not a command name");
    if (command_catalog != nullptr) {
      const AclCommandCatalog::Kind kind = command_catalog->Lookup(command);
      if (kind != AclCommandCatalog::Kind::kCommand &&
          kind != AclCommandCatalog::Kind::kContainer) {
        return BadOptionValue(name, text, absl::StrCat("unknown command '", Echoed(command), "'"));
      }
    }
    names.insert(std::move(command));
    if (names.size() > kMaxCommandListNames) {
      return BadOptionValue(name, text,
                            absl::StrCat("more than ", kMaxCommandListNames, " commands"));
    }
  }
  return FleetValue(absl::StrJoin(names, ","));
}

// kOutputLimits: `text` over `current` (empty: the defaults), in CONFIG GET's form.
absl::StatusOr<FleetValue> OutputLimitsFromText(std::string_view name, std::string_view text,
                                                const std::string& current) {
  OutputBufferLimits base;
  if (!current.empty()) {
    absl::StatusOr<OutputBufferLimits> parsed = ParseOutputBufferLimits(name, current, base);
    if (parsed.ok()) base = *parsed;
  }
  absl::StatusOr<OutputBufferLimits> limits = ParseOutputBufferLimits(name, text, base);
  if (!limits.ok()) return limits.status();
  return FleetValue(FormatOutputBufferLimits(*limits));
}

// The proto column: the message holding a field, to read and to write.
const v1::Policy& InPolicy(const v1::Policy& policy) { return policy; }
v1::Policy* InPolicy(v1::Policy* policy) { return policy; }
const v1::Limits& InLimits(const v1::Policy& policy) { return policy.limits(); }
v1::Limits* InLimits(v1::Policy* policy) { return policy->mutable_limits(); }
const v1::BackendCredentials& InBackend(const v1::Policy& policy) { return policy.backend(); }
v1::BackendCredentials* InBackend(v1::Policy* policy) { return policy->mutable_backend(); }

#define SLOTPLANE_PROTO_FIELD(message, field)                                                 \
  FleetOption::Access<v1::Policy> {                                                           \
    [](const v1::Policy& p) { return ToValue(message(p).field()); },                          \
        [](v1::Policy* p, const FleetValue& v) {                                              \
          message(p)->set_##field(FromValue<std::decay_t<decltype(message(*p).field())>>(v)); \
        }                                                                                     \
  }
#define PROTO(field) SLOTPLANE_PROTO_FIELD(InPolicy, field)
#define PROTO_LIMITS(field) SLOTPLANE_PROTO_FIELD(InLimits, field)
#define PROTO_BACKEND(field) SLOTPLANE_PROTO_FIELD(InBackend, field)

#define SLOTPLANE_FLEET_ROW(type, field, default_value, kind, proto)                          \
  FleetOption(kind,                                                                           \
              {[](const FleetSettings& s) { return ToValue(s.field); },                       \
               [](FleetSettings* s, const FleetValue& v) { s->field = FromValue<type>(v); }}, \
              proto),

}  // namespace

const EnumNames kReadPolicyChoices{kReadPolicyNames};

void SetFleetCommandCatalog(const AclCommandCatalog* catalog) { command_catalog = catalog; }

FleetOption::FleetOption(Spec spec, Access<FleetSettings> field, Access<v1::Policy> proto)
    : spec_(spec),
      field_(field),
      proto_(proto),
      proto_is_text_(std::holds_alternative<std::string>(proto.get(v1::Policy())) &&
                     spec.kind == FleetKind::kEnum),
      default_(field.get(FleetSettings())) {}

absl::StatusOr<FleetValue> FleetOption::FromText(std::string_view text,
                                                 const FleetValue& current) const {
  switch (spec_.kind) {
    case FleetKind::kYesNo:
      return NumberOrError(ParseYesNo(spec_.name, text));
    case FleetKind::kInt:
      return NumberOrError(ParseInteger(spec_.name, text, spec_.min, spec_.max));
    case FleetKind::kSize:
      return NumberOrError(ParseSize(spec_.name, text, spec_.min));
    case FleetKind::kEnum:
      return NumberOrError(ParseEnum(spec_.name, text, *spec_.choices));
    case FleetKind::kWord:
      if (absl::StrContains(AbslView(text), ' ')) {
        return BadOptionValue(spec_.name, text, "contains a space");
      }
      return FleetValue(std::string(text));
    case FleetKind::kSecret:
      return FleetValue(std::string(text));
    case FleetKind::kOutputLimits:
      return OutputLimitsFromText(spec_.name, text, Text(current));
    case FleetKind::kCommandList:
      return CommandListFromText(spec_.name, text);
  }
  return FleetValue();
}

FleetValue FleetOption::ToProto(const FleetValue& value) const {
  if (spec_.kind != FleetKind::kEnum) return value;
  const int64_t index = Number(value);
  if (proto_is_text_) return std::string(spec_.choices->names[index]);
  return index + 1;  // proto enums number the choices from 1
}

absl::StatusOr<std::optional<FleetValue>> FleetOption::FromProto(const FleetValue& value) const {
  switch (spec_.kind) {
    case FleetKind::kYesNo:
      return value;
    case FleetKind::kInt:
    case FleetKind::kSize: {
      const int64_t n = Number(value);
      if (n == 0) return std::nullopt;
      if (n < spec_.min || n > spec_.max) {
        return absl::InvalidArgumentError(absl::StrCat(spec_.name, " ", n, " is out of range (",
                                                       spec_.min, "..", spec_.max, ")"));
      }
      return value;
    }
    case FleetKind::kEnum:
      return EnumFromProto(value);
    case FleetKind::kWord:
    case FleetKind::kSecret:
    case FleetKind::kOutputLimits:
    case FleetKind::kCommandList: {
      if (Text(value).empty()) return std::nullopt;
      absl::StatusOr<FleetValue> checked = FromText(Text(value));
      if (!checked.ok()) return checked.status();
      return *std::move(checked);
    }
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<FleetValue>> FleetOption::EnumFromProto(
    const FleetValue& value) const {
  // "read-policy" → "unknown read policy 42".
  const std::string noun = absl::StrReplaceAll(spec_.name, {{"-", " "}});
  if (proto_is_text_) {
    const std::string text = Text(value);
    if (text.empty()) return std::nullopt;
    const std::optional<int> index = FindEnumValue(text, *spec_.choices);
    if (!index.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown ", noun, " '", Echoed(text), "'"));
    }
    return FleetValue(int64_t{*index});
  }
  const int64_t number = Number(value);
  if (number == 0) return default_;  // UNSPECIFIED
  if (number < 1 || number > spec_.max + 1) {
    return absl::InvalidArgumentError(absl::StrCat("unknown ", noun, " ", number));
  }
  return FleetValue(number - 1);
}

std::string FleetOption::Format(const FleetValue& value) const {
  switch (spec_.kind) {
    case FleetKind::kYesNo:
      return Number(value) != 0 ? "yes" : "no";
    case FleetKind::kInt:
    case FleetKind::kSize:
      return absl::StrCat(Number(value));
    case FleetKind::kEnum: {
      const int64_t index = Number(value);
      return index >= 0 && index <= spec_.max ? spec_.choices->names[index] : "";
    }
    case FleetKind::kWord:
    case FleetKind::kOutputLimits:
    case FleetKind::kCommandList:
      return Text(value);
    case FleetKind::kSecret:
      return Text(value).empty() ? "" : "(set)";
  }
  return "";
}

absl::Status FleetOption::Parse(std::string_view text, FleetSettings* settings) const {
  absl::StatusOr<FleetValue> value = FromText(text, field_.get(*settings));
  if (!value.ok()) return value.status();
  field_.set(settings, *value);
  return absl::OkStatus();
}

absl::Status FleetOption::Parse(std::string_view text, v1::Policy* policy) const {
  absl::StatusOr<FleetValue> value = FromText(text, proto_.get(*policy));
  if (!value.ok()) return value.status();
  proto_.set(policy, ToProto(*value));
  return absl::OkStatus();
}

std::string FleetOption::Show(const FleetSettings& settings) const {
  return Format(field_.get(settings));
}

std::string FleetOption::Show(const v1::Policy& policy) const {
  const FleetValue value = proto_.get(policy);
  if (spec_.kind != FleetKind::kEnum) return Format(value);
  absl::StatusOr<std::optional<FleetValue>> index = FromProto(value);
  return Format(index.ok() && index->has_value() ? **index : default_);
}

absl::Status FleetOption::Take(const v1::Policy& policy, FleetSettings* settings) const {
  absl::StatusOr<std::optional<FleetValue>> value = FromProto(proto_.get(policy));
  if (!value.ok()) return value.status();
  if (value->has_value()) field_.set(settings, **value);
  return absl::OkStatus();
}

void FleetOption::Put(const FleetSettings& settings, v1::Policy* policy) const {
  proto_.set(policy, ToProto(field_.get(settings)));
}

const std::vector<FleetOption>& FleetOptions() {
  static const auto* options =
      new std::vector<FleetOption>{SLOTPLANE_FLEET_OPTIONS(SLOTPLANE_FLEET_ROW)};
  return *options;
}

const FleetOption* FindFleetOption(std::string_view name) {
  for (const FleetOption& option : FleetOptions()) {
    if (EqualsIgnoreCase(option.name(), name)) return &option;
  }
  return nullptr;
}

void PutFleetSettings(const FleetSettings& settings, v1::Policy* policy) {
  for (const FleetOption& option : FleetOptions()) option.Put(settings, policy);
}

absl::Status TakeFleetSettings(const v1::Policy& policy, FleetSettings* settings) {
  for (const FleetOption& option : FleetOptions()) {
    if (absl::Status s = option.Take(policy, settings); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace slotplane
