#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "common/cluster_view.h"
#include "common/logging.h"
#include "common/strings.h"

// The `name value...` option machinery of slotplane's daemons (slotplane-proxy and
// slotplane-control): value parsers whose errors name the option, a daemon's table of options,
// and the reader that applies the command line and config files (`-c FILE`) to a table.
//
// Errors never echo more than the start of a bad value (Echoed, common/strings.h) and never echo
// the value of a secret (passwords): such options report with BadSecretValue.
namespace slotplane {

using OptionValues = std::vector<std::string>;

// "invalid value 'VALUE' for option 'NAME': WHY" (InvalidArgument), VALUE as Echoed shows it.
absl::Status BadOptionValue(std::string_view name, std::string_view value, std::string_view why);
// "invalid value for option 'NAME': WHY", for options whose values are never shown.
absl::Status BadSecretValue(std::string_view name, std::string_view why);
// "unknown option 'NAME'" (NotFound).
absl::Status UnknownOption(std::string_view name);

// The spellings of an enum-like option: value i is names[i]; `aliases` are further spellings
// accepted on input and never shown. Matching ignores ASCII case.
struct EnumNames {
  absl::Span<const char* const> names;
  absl::Span<const std::pair<const char*, int>> aliases = {};
};

// debug | info | success | warning | error, indexed by LogLevel; "warn" is accepted too.
extern const EnumNames kLogLevelChoices;

// Value parsers. Errors are BadOptionValue naming `name`.
absl::StatusOr<bool> ParseYesNo(std::string_view name,
                                std::string_view text);  // also 1/0, true/false
absl::StatusOr<int64_t> ParseInteger(std::string_view name, std::string_view text, int64_t min,
                                     int64_t max);
// A size as Redis's config writes it: a number with an optional k/kb/m/mb/g/gb suffix (k = 1000,
// kb = 1024, ...), at least `min`.
absl::StatusOr<int64_t> ParseSize(std::string_view name, std::string_view text, int64_t min);
absl::StatusOr<int> ParseEnum(std::string_view name, std::string_view text, const EnumNames& names);
// The value `text` spells, or nullopt.
std::optional<int> FindEnumValue(std::string_view text, const EnumNames& names);
// Appends every host:port of `values` to `out`; a value may be a comma-separated list (as
// redis-cluster-proxy users write them).
absl::Status ParseAddressList(std::string_view name, const OptionValues& values,
                              std::vector<NodeAddress>* out);

// One option of a daemon whose settings are a T.
template <typename T>
struct OptionDef {
  std::string name;  // lower case, as in the config file
  // Applies the values. The table has checked their count: exactly one, or one or more for a
  // repeatable option. On error the option's field is unchanged.
  std::function<absl::Status(T*, const OptionValues&)> set;
  // The value as PROXY CONFIG GET shows it (a credential only as "(set)" or "").
  std::function<std::string(const T&)> get;
  bool repeatable = false;  // each occurrence adds to the option (bind, cluster, user)
  bool yes_no = false;      // a yes/no option: `--name` alone on the command line means yes
  bool secret = false;      // its value holds a secret: hidden from the process list when given
                            // on the command line (HideSecretArguments)
  std::string help;         // one line for --help; empty: not listed there
};

// "option 'NAME' takes one value, got N" unless `values` holds one value (one or more when
// `repeatable`).
absl::Status CheckValueCount(std::string_view name, bool repeatable, const OptionValues& values);

// What ReadCommandLine needs of a table, whatever the type of its settings.
struct OptionSink {
  // Applies an option; NotFound for unknown names.
  std::function<absl::Status(const std::string& name, const OptionValues& values)> apply;
  // nullopt for unknown names; else whether the option is a yes/no one.
  std::function<std::optional<bool>(const std::string& name)> yes_no;
};

// The shape of a daemon's command line beyond `--name value`.
struct CommandLineSpec {
  // A short flag standing for an option: `-p PORT` is `--port PORT`.
  struct ShortFlag {
    std::string flag;    // "-p"
    std::string option;  // "port"
    std::string noun;    // "port": "-p needs a port"
  };
  std::string program;                 // --version prints "PROGRAM VERSION"
  std::function<std::string()> usage;  // what -h / --help prints
  std::vector<ShortFlag> short_flags;
  std::string positional;  // the option that bare arguments are values of; empty: none allowed
};

// Applies a command line (argv[0] is the program) to `sink`:
//  - `-h`/`--help` or `--version`/`-v` anywhere: Cancelled whose message is the text to print;
//  - then every `-c FILE` in order (config files first, so that flags override them);
//  - then in order: `--name value`, `--name` alone for a yes/no option, the short flags, and
//    bare arguments as values of `spec.positional`.
// Errors name the option; config-file errors start with "FILE:LINE: ".
absl::Status ReadCommandLine(int argc, const char* const* argv, const CommandLineSpec& spec,
                             const OptionSink& sink);

// Applies a config file in proxy.conf format (common/config_file.h) to `sink`. Errors start with
// "FILE:LINE: ".
absl::Status ApplyConfigFile(const std::string& path, const OptionSink& sink);

// A daemon's options, in the order PROXY CONFIG GET and --help list them.
template <typename T>
class OptionTable {
 public:
  explicit OptionTable(std::vector<OptionDef<T>> defs) : defs_(std::move(defs)) {}

  const std::vector<OptionDef<T>>& defs() const { return defs_; }

  // The option named `name` (ASCII case ignored), or nullptr.
  const OptionDef<T>* Find(std::string_view name) const {
    for (const OptionDef<T>& def : defs_) {
      if (EqualsIgnoreCase(def.name, name)) return &def;
    }
    return nullptr;
  }

  absl::Status Apply(T* settings, std::string_view name, const OptionValues& values) const {
    const OptionDef<T>* def = Find(name);
    if (def == nullptr) return UnknownOption(name);
    if (absl::Status s = CheckValueCount(def->name, def->repeatable, values); !s.ok()) return s;
    return def->set(settings, values);
  }

  // NotFound for unknown names.
  absl::StatusOr<std::string> Get(const T& settings, std::string_view name) const {
    const OptionDef<T>* def = Find(name);
    if (def == nullptr) return UnknownOption(name);
    return def->get(settings);
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const OptionDef<T>& def : defs_) names.push_back(def.name);
    return names;
  }

  // A T with its defaults and then the command line applied (ReadCommandLine); `check`, when
  // given, then checks the combination of options.
  absl::StatusOr<T> ParseCommandLine(int argc, const char* const* argv, const CommandLineSpec& spec,
                                     absl::Status (*check)(const T&) = nullptr) const {
    T settings;
    absl::Status s = ReadCommandLine(argc, argv, spec, SinkFor(&settings));
    if (s.ok() && check != nullptr) s = check(settings);
    if (!s.ok()) return s;
    return settings;
  }

  // For every secret option given on the command line (`--requirepass VALUE`): overwrites VALUE
  // in place with 'x' so that the process list (/proc/PID/cmdline, ps) no longer shows it, and
  // returns the options' names so that the daemon can warn (a config file or the environment
  // keeps a secret out of the process list from the start). Call after parsing.
  std::vector<std::string> HideSecretArguments(int argc, char** argv) const {
    std::vector<std::string> hidden;
    for (int i = 1; i + 1 < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg.size() < 3 || arg.substr(0, 2) != "--") continue;
      const OptionDef<T>* def = Find(arg.substr(2));
      if (def == nullptr || !def->secret) continue;
      for (char* c = argv[i + 1]; *c != '\0'; ++c) *c = 'x';
      hidden.push_back(def->name);
      ++i;
    }
    return hidden;
  }

  // Applies to `settings`; the sink must not outlive either.
  OptionSink SinkFor(T* settings) const {
    return {[this, settings](const std::string& name, const OptionValues& values) {
              return Apply(settings, name, values);
            },
            [this](const std::string& name) -> std::optional<bool> {
              const OptionDef<T>* def = Find(name);
              if (def == nullptr) return std::nullopt;
              return def->yes_no;
            }};
  }

 private:
  std::vector<OptionDef<T>> defs_;
};

// Option factories for the common kinds. Each takes the option's field in T.

// An option with one value, applied by `set`.
template <typename T>
OptionDef<T> SingleValueOption(std::string name,
                               std::function<absl::Status(T*, const std::string&)> set,
                               std::function<std::string(const T&)> get, std::string help = "") {
  OptionDef<T> def;
  def.name = std::move(name);
  def.set = [set = std::move(set)](T* settings, const OptionValues& values) {
    return set(settings, values[0]);
  };
  def.get = std::move(get);
  def.help = std::move(help);
  return def;
}

// An integer in [min, max].
template <typename T, typename Int>
OptionDef<T> IntOption(const std::string& name, Int T::*field, int64_t min, int64_t max,
                       std::string help = "") {
  return SingleValueOption<T>(
      name,
      [=](T* settings, const std::string& text) -> absl::Status {
        absl::StatusOr<int64_t> n = ParseInteger(name, text, min, max);
        if (!n.ok()) return n.status();
        settings->*field = static_cast<Int>(*n);
        return absl::OkStatus();
      },
      [=](const T& settings) { return absl::StrCat(settings.*field); }, std::move(help));
}

template <typename T>
OptionDef<T> YesNoOption(const std::string& name, bool T::*field, std::string help = "") {
  OptionDef<T> def = SingleValueOption<T>(
      name,
      [=](T* settings, const std::string& text) -> absl::Status {
        absl::StatusOr<bool> value = ParseYesNo(name, text);
        if (!value.ok()) return value.status();
        settings->*field = *value;
        return absl::OkStatus();
      },
      [=](const T& settings) { return std::string(settings.*field ? "yes" : "no"); },
      std::move(help));
  def.yes_no = true;
  return def;
}

template <typename T>
OptionDef<T> StringOption(const std::string& name, std::string T::*field, std::string help = "") {
  return SingleValueOption<T>(
      name,
      [=](T* settings, const std::string& text) {
        settings->*field = text;
        return absl::OkStatus();
      },
      [=](const T& settings) { return settings.*field; }, std::move(help));
}

// A credential: shown only as "(set)" or "".
template <typename T>
OptionDef<T> SecretOption(const std::string& name, std::string T::*field, std::string help = "") {
  OptionDef<T> def = StringOption<T>(name, field, std::move(help));
  def.get = [=](const T& settings) {
    return std::string((settings.*field).empty() ? "" : "(set)");
  };
  def.secret = true;
  return def;
}

// One of `names`. The field is an enum (or int) holding the value's index, or a string holding
// its canonical (lower-case) spelling.
template <typename T, typename Field>
OptionDef<T> EnumOption(const std::string& name, Field T::*field, const EnumNames& names,
                        std::string help = "") {
  return SingleValueOption<T>(
      name,
      [=](T* settings, const std::string& text) -> absl::Status {
        absl::StatusOr<int> value = ParseEnum(name, text, names);
        if (!value.ok()) return value.status();
        if constexpr (std::is_same_v<Field, std::string>) {
          settings->*field = names.names[*value];
        } else {
          settings->*field = static_cast<Field>(*value);
        }
        return absl::OkStatus();
      },
      [=](const T& settings) -> std::string {
        if constexpr (std::is_same_v<Field, std::string>) {
          return settings.*field;
        } else {
          return names.names[static_cast<int>(settings.*field)];
        }
      },
      std::move(help));
}

// A host:port kept as written; with `allow_empty`, "" (none) too.
template <typename T>
OptionDef<T> AddressOption(const std::string& name, std::string T::*field, bool allow_empty,
                           std::string help = "") {
  return SingleValueOption<T>(
      name,
      [=](T* settings, const std::string& text) -> absl::Status {
        if (!(allow_empty && text.empty())) {
          absl::StatusOr<NodeAddress> address = ParseNodeAddress(text);
          if (!address.ok()) {
            return BadOptionValue(name, text, std::string(address.status().message()));
          }
        }
        settings->*field = text;
        return absl::OkStatus();
      },
      [=](const T& settings) { return settings.*field; }, std::move(help));
}

// Repeatable host:port entry points; comma-separated lists are accepted.
template <typename T>
OptionDef<T> AddressListOption(const std::string& name, std::vector<NodeAddress> T::*field,
                               std::string help = "") {
  OptionDef<T> def;
  def.name = name;
  def.set = [=](T* settings, const OptionValues& values) {
    return ParseAddressList(name, values, &(settings->*field));
  };
  def.get = [=](const T& settings) {
    std::vector<std::string> parts;
    for (const NodeAddress& address : settings.*field) parts.push_back(address.ToString());
    return absl::StrJoin(parts, " ");
  };
  def.repeatable = true;
  def.help = std::move(help);
  return def;
}

// Repeatable strings, each value appended.
template <typename T>
OptionDef<T> StringListOption(const std::string& name, std::vector<std::string> T::*field,
                              std::string help = "") {
  OptionDef<T> def;
  def.name = name;
  def.set = [=](T* settings, const OptionValues& values) {
    for (const std::string& value : values) (settings->*field).push_back(value);
    return absl::OkStatus();
  };
  def.get = [=](const T& settings) { return absl::StrJoin(settings.*field, " "); };
  def.repeatable = true;
  def.help = std::move(help);
  return def;
}

}  // namespace slotplane
