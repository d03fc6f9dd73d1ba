#include "controlplane/options.h"

#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config_file.h"
#include "common/strings.h"
#include "controlplane/policy/policy_options.h"

namespace slotplane::control {
namespace {

using Values = std::vector<std::string>;
using Setter = std::function<absl::Status(ControlOptions*, const Values&)>;

struct OptionDef {
  const char* name;
  const char* help;
  Setter set;
};

absl::Status BadValue(const std::string& name, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value '", value, "' for option '", name, "': ", why));
}

absl::Status ExpectOne(const std::string& name, const Values& v) {
  if (v.size() == 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("option '", name, "' takes one value, got ", v.size()));
}

OptionDef IntOption(const char* name, const char* help, int ControlOptions::*field, int min,
                    int max) {
  return {name, help, [=](ControlOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            int n;
            if (!absl::SimpleAtoi(v[0], &n)) return BadValue(name, v[0], "not an integer");
            if (n < min || n > max) {
              return BadValue(name, v[0], absl::StrCat("must be between ", min, " and ", max));
            }
            o->*field = n;
            return absl::OkStatus();
          }};
}

OptionDef StringOption(const char* name, const char* help, std::string ControlOptions::*field) {
  return {name, help, [=](ControlOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            o->*field = v[0];
            return absl::OkStatus();
          }};
}

OptionDef AddressOption(const char* name, const char* help, std::string ControlOptions::*field) {
  return {name, help, [=](ControlOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            if (auto a = ParseNodeAddress(v[0]); !a.ok()) {
              return BadValue(name, v[0], std::string(a.status().message()));
            }
            o->*field = v[0];
            return absl::OkStatus();
          }};
}

// Also seeds the policy of a new store (auth, auth-user).
OptionDef CredentialOption(const char* name, const char* help, std::string ControlOptions::*field) {
  return {name, help, [=](ControlOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            v1::Policy scratch;
            if (auto s = SetPolicyOption(&scratch, name, v[0]); !s.ok()) return s;
            o->*field = v[0];
            o->initial_policy[name] = v[0];
            return absl::OkStatus();
          }};
}

OptionDef ClusterOption(const char* name) {
  return {name, "HOST:PORT of a cluster node; repeatable, comma-separated lists accepted",
          [=](ControlOptions* o, const Values& v) -> absl::Status {
            if (v.empty()) return ExpectOne(name, v);
            for (const std::string& item : v) {
              for (absl::string_view part : absl::StrSplit(item, ',', absl::SkipEmpty())) {
                auto address = ParseNodeAddress(StdView(part));
                if (!address.ok()) {
                  return BadValue(name, std::string(part), std::string(address.status().message()));
                }
                o->cluster.push_back(*address);
              }
            }
            return absl::OkStatus();
          }};
}

OptionDef LogLevelOption() {
  return {"log-level", "debug | info | success | warning | error (default info)",
          [](ControlOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne("log-level", v); !s.ok()) return s;
            if (!ParseLogLevel(absl::AsciiStrToLower(v[0]), &o->log_level)) {
              return BadValue("log-level", v[0], "must be debug, info, success, warning or error");
            }
            return absl::OkStatus();
          }};
}

const std::vector<OptionDef>& Options() {
  static const auto* options = new std::vector<OptionDef>{
      AddressOption("listen", "HOST:PORT of the gRPC services (default 127.0.0.1:7700)",
                    &ControlOptions::listen),
      ClusterOption("cluster"),
      ClusterOption("entry-point"),
      StringOption("data-dir", "directory of the durable store (required)",
                   &ControlOptions::data_dir),
      IntOption("poll-interval", "ms between topology polls (default 1000)",
                &ControlOptions::poll_interval_ms, 50, 3600000),
      IntOption("refresh-min-gap", "ms between refreshes asked for by MOVED reports (default 200)",
                &ControlOptions::refresh_min_gap_ms, 10, 60000),
      IntOption("backend-connect-timeout", "ms to connect to / hear from a node (default 1000)",
                &ControlOptions::backend_connect_timeout_ms, 10, 60000),
      StringOption("admin-token-file",
                   "file with the admin API's bearer token (else $SLOTPLANE_ADMIN_TOKEN)",
                   &ControlOptions::admin_token_file),
      StringOption("metrics-bind", "address of /metrics and /healthz (default 127.0.0.1)",
                   &ControlOptions::metrics_bind),
      IntOption("metrics-port", "port of /metrics and /healthz (default 0: off)",
                &ControlOptions::metrics_port, 0, 65535),
      LogLevelOption(),
      StringOption("logfile", "log to this file (appended) instead of stderr",
                   &ControlOptions::logfile),
      StringOption("pidfile", "write the process id here", &ControlOptions::pidfile),
      StringOption("tls-cert", "PEM server certificate: serve TLS (needs tls-key)",
                   &ControlOptions::tls_cert),
      StringOption("tls-key", "PEM private key of tls-cert", &ControlOptions::tls_key),
      StringOption("tls-client-ca",
                   "PEM CA: watch streams need a client certificate it signed (mTLS)",
                   &ControlOptions::tls_client_ca),
      CredentialOption("auth", "password for the cluster nodes (discovery; a new policy's auth)",
                       &ControlOptions::auth),
      CredentialOption("auth-user", "ACL user for auth", &ControlOptions::auth_user),
  };
  return *options;
}

const OptionDef* FindOption(const std::string& name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const OptionDef& def : Options()) {
    if (lower == def.name) return &def;
  }
  return nullptr;
}

absl::Status ApplyConfigFileFirst(int argc, const char* const* argv, ControlOptions* options) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) != "-c") continue;
    if (i + 1 >= argc) return absl::InvalidArgumentError("-c needs a config file path");
    auto directives = ReadConfigFile(argv[i + 1]);
    if (!directives.ok()) return directives.status();
    for (const ConfigDirective& d : *directives) {
      absl::Status s = ApplyControlOption(options, d.name, d.values);
      if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(d.Where(), ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

bool IsYesNoPolicyOption(const std::string& name) {
  const std::map<std::string, std::string> values = PolicyOptionValues(DefaultPolicy());
  auto it = values.find(absl::AsciiStrToLower(name));
  return it != values.end() && (it->second == "yes" || it->second == "no");
}

absl::Status CheckCombinations(const ControlOptions& options) {
  if (options.cluster.empty()) {
    return absl::InvalidArgumentError(
        "no cluster entry point: give one with --cluster HOST:PORT (or `cluster HOST:PORT` in the "
        "config file)");
  }
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError(
        "no data directory: give one with --data-dir DIR (where the policy and version are "
        "kept)");
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("options 'tls-cert' and 'tls-key' go together");
  }
  if (!options.tls_client_ca.empty() && options.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "option 'tls-client-ca' needs TLS: give 'tls-cert' and 'tls-key' too");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyControlOption(ControlOptions* options, const std::string& name,
                                const Values& values) {
  if (const OptionDef* def = FindOption(name)) return def->set(options, values);
  if (IsPolicyOption(name)) {
    if (auto s = ExpectOne(name, values); !s.ok()) return s;
    v1::Policy scratch;
    if (auto s = SetPolicyOption(&scratch, name, values[0]); !s.ok()) return s;
    options->initial_policy[absl::AsciiStrToLower(name)] = values[0];
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown option '", name, "'"));
}

std::string ControlUsageText() {
  std::string text =
      "Usage: slotplane-control --cluster HOST:PORT [--cluster ...] --data-dir DIR "
      "[--listen HOST:PORT] [-c FILE] [--OPTION VALUE ...]\n"
      "  -c FILE          read options from a config file (one `name value` per line, as "
      "proxy.conf)\n"
      "  --version        print the version\n"
      "Options (each also a config-file key):\n";
  for (const OptionDef& def : Options()) {
    const size_t width = std::string(def.name).size();
    absl::StrAppend(&text, "  --", def.name, std::string(width < 24 ? 24 - width : 1, ' '),
                    def.help, "\n");
  }
  absl::StrAppend(&text, "Fleet-wide policy options (", absl::StrJoin(PolicyOptionNames(), ", "),
                  ") are accepted too: they set the initial policy of a new store.\n"
                  "Environment: SLOTPLANE_ADMIN_TOKEN (admin token when no admin-token-file).\n");
  return text;
}

absl::StatusOr<ControlOptions> ParseControlCommandLine(int argc, const char* const* argv) {
  ControlOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return absl::CancelledError(ControlUsageText());
    if (arg == "--version" || arg == "-v") {
      return absl::CancelledError(absl::StrCat("slotplane-control ", SLOTPLANE_VERSION, "\n"));
    }
  }
  if (auto s = ApplyConfigFileFirst(argc, argv, &options); !s.ok()) return s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-c") {
      ++i;  // already applied
      continue;
    }
    if (arg.rfind("--", 0) == 0) {
      const std::string name = arg.substr(2);
      if (FindOption(name) == nullptr && !IsPolicyOption(name)) {
        return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
      }
      const bool has_value = i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0;
      if (!has_value && !IsYesNoPolicyOption(name)) {
        return absl::InvalidArgumentError(absl::StrCat("option ", arg, " needs a value"));
      }
      const Values values = {has_value ? argv[++i] : "yes"};
      if (auto s = ApplyControlOption(&options, name, values); !s.ok()) return s;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
    }
    if (auto s = ApplyControlOption(&options, "cluster", {arg}); !s.ok()) return s;
  }
  if (auto s = CheckCombinations(options); !s.ok()) return s;
  return options;
}

}  // namespace slotplane::control
