#include "common/option_table.h"

#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/build_info.h"
#include "common/config_file.h"

namespace slotplane {
namespace {

constexpr std::pair<const char*, int> kLogLevelAliases[] = {
    {"warn", static_cast<int>(LogLevel::kWarning)}};

// "a, b or c".
std::string Choices(const EnumNames& names) {
  const absl::Span<const char* const> all = names.names;
  if (all.size() < 2) return all.empty() ? "" : all[0];
  return absl::StrCat(absl::StrJoin(all.subspan(0, all.size() - 1), ", "), " or ", all.back());
}

bool StartsWithDashes(const std::string& arg) { return arg.rfind("--", 0) == 0; }

const CommandLineSpec::ShortFlag* FindShortFlag(const CommandLineSpec& spec,
                                                const std::string& arg) {
  for (const CommandLineSpec::ShortFlag& flag : spec.short_flags) {
    if (flag.flag == arg) return &flag;
  }
  return nullptr;
}

// `--help`, `--version` or none of them: checked before anything is applied, so that they work
// whatever else the command line holds.
std::optional<std::string> HelpOrVersion(int argc, const char* const* argv,
                                         const CommandLineSpec& spec) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return spec.usage();
    if (arg == "--version" || arg == "-v") {
      return absl::StrCat(spec.program, " ", BuildVersion(), " (git ", BuildRevision(), ")\n");
    }
  }
  return std::nullopt;
}

absl::Status ApplyConfigFiles(int argc, const char* const* argv, const OptionSink& sink) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) != "-c") continue;
    if (i + 1 >= argc) return absl::InvalidArgumentError("-c needs a config file path");
    if (absl::Status s = ApplyConfigFile(argv[++i], sink); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// `--name [value]` at argv[*i]; advances *i past a value it takes.
absl::Status ApplyLongOption(int argc, const char* const* argv, int* i, const OptionSink& sink) {
  const std::string arg = argv[*i];
  const std::string name = arg.substr(2);
  const std::optional<bool> yes_no = sink.yes_no(name);
  if (!yes_no.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown option ", Echoed(arg)));
  }
  const bool has_value = *i + 1 < argc && !StartsWithDashes(argv[*i + 1]);
  if (!has_value && !*yes_no) {
    return absl::InvalidArgumentError(absl::StrCat("option ", arg, " needs a value"));
  }
  return sink.apply(name, {has_value ? argv[++*i] : "yes"});
}

}  // namespace

const EnumNames kLogLevelChoices{kLogLevelNames, kLogLevelAliases};

absl::Status BadOptionValue(std::string_view name, std::string_view value, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid value '", Echoed(value), "' for option '",
                                                 AbslView(name), "': ", AbslView(why)));
}

absl::Status BadSecretValue(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value for option '", AbslView(name), "': ", AbslView(why)));
}

absl::Status UnknownOption(std::string_view name) {
  return absl::NotFoundError(absl::StrCat("unknown option '", Echoed(name), "'"));
}

absl::StatusOr<bool> ParseYesNo(std::string_view name, std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(AbslView(text));
  if (lower == "yes" || lower == "1" || lower == "true") return true;
  if (lower == "no" || lower == "0" || lower == "false") return false;
  return BadOptionValue(name, text, "must be yes or no");
}

absl::StatusOr<int64_t> ParseInteger(std::string_view name, std::string_view text, int64_t min,
                                     int64_t max) {
  int64_t n;
  if (!absl::SimpleAtoi(AbslView(text), &n)) return BadOptionValue(name, text, "not an integer");
  if (n < min || n > max) {
    return BadOptionValue(name, text, absl::StrCat("must be between ", min, " and ", max));
  }
  return n;
}

absl::StatusOr<int64_t> ParseSize(std::string_view name, std::string_view text, int64_t min) {
  struct Suffix {
    const char* text;
    int64_t unit;
  };
  static constexpr Suffix kSuffixes[] = {{"gb", 1LL << 30}, {"mb", 1LL << 20}, {"kb", 1LL << 10},
                                         {"g", 1000000000}, {"m", 1000000},    {"k", 1000}};
  std::string number = absl::AsciiStrToLower(AbslView(text));
  int64_t unit = 1;
  for (const Suffix& suffix : kSuffixes) {
    if (absl::EndsWith(number, suffix.text)) {
      unit = suffix.unit;
      number.resize(number.size() - std::strlen(suffix.text));
      break;
    }
  }
  int64_t n;
  if (!absl::SimpleAtoi(number, &n) || n < 0 || n > std::numeric_limits<int64_t>::max() / unit) {
    return BadOptionValue(name, text, "not a size (e.g. 512mb)");
  }
  if (n * unit < min) return BadOptionValue(name, text, absl::StrCat("must be at least ", min));
  return n * unit;
}

std::optional<int> FindEnumValue(std::string_view text, const EnumNames& names) {
  for (size_t i = 0; i < names.names.size(); ++i) {
    if (EqualsIgnoreCase(text, names.names[i])) return static_cast<int>(i);
  }
  for (const auto& [alias, value] : names.aliases) {
    if (EqualsIgnoreCase(text, alias)) return value;
  }
  return std::nullopt;
}

absl::StatusOr<int> ParseEnum(std::string_view name, std::string_view text,
                              const EnumNames& names) {
  std::optional<int> value = FindEnumValue(text, names);
  if (!value.has_value()) return BadOptionValue(name, text, "must be " + Choices(names));
  return *value;
}

absl::Status ParseAddressList(std::string_view name, const OptionValues& values,
                              std::vector<NodeAddress>* out) {
  for (const std::string& item : values) {
    for (absl::string_view part : absl::StrSplit(item, ',', absl::SkipEmpty())) {
      absl::StatusOr<NodeAddress> address = ParseNodeAddress(StdView(part));
      if (!address.ok()) {
        return BadOptionValue(name, StdView(part), StdView(address.status().message()));
      }
      out->push_back(*std::move(address));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValueCount(std::string_view name, bool repeatable, const OptionValues& values) {
  if (values.size() == 1 || (repeatable && !values.empty())) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("option '", AbslView(name), "' takes one value, got ", values.size()));
}

absl::Status ApplyConfigFile(const std::string& path, const OptionSink& sink) {
  absl::StatusOr<std::vector<ConfigDirective>> directives = ReadConfigFile(path);
  if (!directives.ok()) return directives.status();
  for (const ConfigDirective& d : *directives) {
    if (absl::Status s = sink.apply(d.name, d.values); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(d.Where(), ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadCommandLine(int argc, const char* const* argv, const CommandLineSpec& spec,
                             const OptionSink& sink) {
  if (std::optional<std::string> text = HelpOrVersion(argc, argv, spec)) {
    return absl::CancelledError(*text);
  }
  if (absl::Status s = ApplyConfigFiles(argc, argv, sink); !s.ok()) return s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-c") {
      ++i;  // applied above
      continue;
    }
    if (StartsWithDashes(arg)) {
      if (absl::Status s = ApplyLongOption(argc, argv, &i, sink); !s.ok()) return s;
      continue;
    }
    if (const CommandLineSpec::ShortFlag* flag = FindShortFlag(spec, arg)) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat(flag->flag, " needs a ", flag->noun));
      }
      if (absl::Status s = sink.apply(flag->option, {argv[++i]}); !s.ok()) return s;
      continue;
    }
    if ((!arg.empty() && arg[0] == '-') || spec.positional.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", Echoed(arg)));
    }
    if (absl::Status s = sink.apply(spec.positional, {arg}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace slotplane
