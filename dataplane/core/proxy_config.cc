#include "dataplane/core/proxy_config.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config_file.h"
#include "common/sha256.h"
#include "common/strings.h"

namespace slotplane::dataplane {
namespace {

using Values = std::vector<std::string>;
using Setter = std::function<absl::Status(ProxyOptions*, const Values&)>;
using Getter = std::function<std::string(const ProxyOptions&)>;

struct OptionDef {
  const char* name;
  Setter set;
  Getter get;
  bool repeatable = false;
};

absl::Status BadValue(const std::string& name, const std::string& value, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value '", value, "' for option '", name, "': ", why));
}

// Parses sizes the way Redis's config does: a number with an optional k/kb/m/mb/g/gb suffix.
bool ParseMemory(std::string value, int64_t* out) {
  value = absl::AsciiStrToLower(value);
  int64_t unit = 1;
  struct Suffix {
    const char* text;
    int64_t unit;
  };
  static constexpr Suffix kSuffixes[] = {{"gb", 1LL << 30}, {"mb", 1LL << 20}, {"kb", 1LL << 10},
                                         {"g", 1000000000}, {"m", 1000000},    {"k", 1000}};
  for (const Suffix& s : kSuffixes) {
    if (absl::EndsWith(value, s.text)) {
      unit = s.unit;
      value.resize(value.size() - strlen(s.text));
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

absl::Status ExpectOne(const std::string& name, const Values& v) {
  if (v.size() == 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("option '", name, "' takes one value, got ", v.size()));
}

template <typename Int>
OptionDef IntOption(const char* name, Int ProxyOptions::*field, int64_t min, int64_t max) {
  return {name,
          [=](ProxyOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            int64_t n;
            if (!absl::SimpleAtoi(v[0], &n)) return BadValue(name, v[0], "not an integer");
            if (n < min || n > max) {
              return BadValue(name, v[0], absl::StrCat("must be between ", min, " and ", max));
            }
            o->*field = static_cast<Int>(n);
            return absl::OkStatus();
          },
          [=](const ProxyOptions& o) { return absl::StrCat(o.*field); }};
}

OptionDef MemoryOption(const char* name, int64_t ProxyOptions::*field, int64_t min) {
  return {name,
          [=](ProxyOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            int64_t n;
            if (!ParseMemory(v[0], &n)) return BadValue(name, v[0], "not a size (e.g. 512mb)");
            if (n < min) return BadValue(name, v[0], absl::StrCat("must be at least ", min));
            o->*field = n;
            return absl::OkStatus();
          },
          [=](const ProxyOptions& o) { return absl::StrCat(o.*field); }};
}

OptionDef BoolOption(const char* name, bool ProxyOptions::*field) {
  return {name,
          [=](ProxyOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            std::string lower = absl::AsciiStrToLower(v[0]);
            if (lower == "yes" || lower == "1" || lower == "true") {
              o->*field = true;
            } else if (lower == "no" || lower == "0" || lower == "false") {
              o->*field = false;
            } else {
              return BadValue(name, v[0], "must be yes or no");
            }
            return absl::OkStatus();
          },
          [=](const ProxyOptions& o) { return std::string(o.*field ? "yes" : "no"); }};
}

OptionDef StringOption(const char* name, std::string ProxyOptions::*field) {
  return {name,
          [=](ProxyOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne(name, v); !s.ok()) return s;
            o->*field = v[0];
            return absl::OkStatus();
          },
          [=](const ProxyOptions& o) { return o.*field; }};
}

// Like StringOption, but CONFIG GET never shows the value: it is a credential.
OptionDef SecretOption(const char* name, std::string ProxyOptions::*field) {
  OptionDef def = StringOption(name, field);
  def.get = [=](const ProxyOptions& o) { return std::string((o.*field).empty() ? "" : "(set)"); };
  return def;
}

OptionDef EntryPointOption(const char* name) {
  return {name,
          [=](ProxyOptions* o, const Values& v) -> absl::Status {
            if (v.empty()) return ExpectOne(name, v);
            // redis-cluster-proxy users also write comma-separated lists.
            for (const std::string& item : v) {
              for (absl::string_view part : absl::StrSplit(item, ',', absl::SkipEmpty())) {
                auto address = ParseNodeAddress(StdView(part));
                if (!address.ok()) {
                  return BadValue(name, std::string(part), std::string(address.status().message()));
                }
                o->entry_points.push_back(*address);
              }
            }
            return absl::OkStatus();
          },
          [](const ProxyOptions& o) {
            std::vector<std::string> parts;
            for (const auto& a : o.entry_points) parts.push_back(a.ToString());
            return absl::StrJoin(parts, " ");
          },
          /*repeatable=*/true};
}

OptionDef BindOption() {
  return {"bind",
          [](ProxyOptions* o, const Values& v) -> absl::Status {
            if (v.empty()) return ExpectOne("bind", v);
            for (const std::string& a : v) o->bind.push_back(a);
            return absl::OkStatus();
          },
          [](const ProxyOptions& o) { return absl::StrJoin(o.bind, " "); },
          /*repeatable=*/true};
}

OptionDef ReadPolicyOption() {
  return {
      "read-policy",
      [](ProxyOptions* o, const Values& v) -> absl::Status {
        if (auto s = ExpectOne("read-policy", v); !s.ok()) return s;
        std::string lower = absl::AsciiStrToLower(v[0]);
        for (const char* name : {"master", "prefer-master", "replica", "prefer-replica", "any"}) {
          if (lower == name) {
            o->read_policy = lower;
            return absl::OkStatus();
          }
        }
        return BadValue("read-policy", v[0],
                        "must be master, prefer-master, replica, prefer-replica or any");
      },
      [](const ProxyOptions& o) { return o.read_policy; }};
}

OptionDef LogLevelOption() {
  return {"log-level",
          [](ProxyOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne("log-level", v); !s.ok()) return s;
            if (!ParseLogLevel(absl::AsciiStrToLower(v[0]), &o->log_level)) {
              return BadValue("log-level", v[0], "must be debug, info, success, warning or error");
            }
            return absl::OkStatus();
          },
          [](const ProxyOptions& o) { return std::string(LogLevelName(o.log_level)); }};
}

OptionDef MultiplexingOption() {
  return {"disable-multiplexing",
          [](ProxyOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne("disable-multiplexing", v); !s.ok()) return s;
            std::string lower = absl::AsciiStrToLower(v[0]);
            if (lower != "auto" && lower != "always") {
              return BadValue("disable-multiplexing", v[0], "must be auto or always");
            }
            o->disable_multiplexing = lower;
            return absl::OkStatus();
          },
          [](const ProxyOptions& o) { return o.disable_multiplexing; }};
}

bool IsSha256Hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Rules that grant what slotplane users always have (every key, channel and command).
bool IsFullAccessRule(const std::string& rule) {
  for (const char* r : {"~*", "allkeys", "&*", "allchannels", "+@all", "allcommands"}) {
    if (rule == r) return true;
  }
  return false;
}

void RemoveHash(std::vector<std::string>* hashes, const std::string& hash) {
  hashes->erase(std::remove(hashes->begin(), hashes->end(), hash), hashes->end());
}

absl::Status ApplyUserRule(ClientUser* user, const std::string& rule) {
  std::string lower = absl::AsciiStrToLower(rule);
  if (lower == "on") {
    user->enabled = true;
  } else if (lower == "off") {
    user->enabled = false;
  } else if (lower == "nopass") {
    user->nopass = true;
    user->password_sha256.clear();
  } else if (lower == "resetpass") {
    user->nopass = false;
    user->password_sha256.clear();
  } else if (lower == "reset") {
    *user = ClientUser{user->name, {}, /*enabled=*/false, /*nopass=*/false};
  } else if (!rule.empty() && (rule[0] == '>' || rule[0] == '<')) {
    std::string hash = Sha256Hex(std::string_view(rule).substr(1));
    RemoveHash(&user->password_sha256, hash);
    if (rule[0] == '>') {
      user->password_sha256.push_back(hash);
      user->nopass = false;
    }
  } else if (!rule.empty() && (rule[0] == '#' || rule[0] == '!')) {
    std::string hash = absl::AsciiStrToLower(rule.substr(1));
    if (!IsSha256Hex(hash)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", rule, "': a password hash is 64 hex digits (SHA-256)"));
    }
    RemoveHash(&user->password_sha256, hash);
    if (rule[0] == '#') {
      user->password_sha256.push_back(hash);
      user->nopass = false;
    }
  } else if (!IsFullAccessRule(lower)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ACL rule '", rule,
                     "' is not supported: slotplane users have access to every key and command"));
  }
  return absl::OkStatus();
}

OptionDef UserOption() {
  return {"user",
          [](ProxyOptions* o, const Values& v) -> absl::Status {
            // On the command line the whole rule list is one argument (`--user "alice on
            // >secret"`): split it like a config line.
            Values words = v;
            if (v.size() == 1 && !SplitConfigLine(v[0], &words)) {
              return BadValue("user", v[0], "unbalanced quotes");
            }
            auto user = ParseUserRules(words);
            if (!user.ok()) {
              return BadValue("user", absl::StrJoin(v, " "), std::string(user.status().message()));
            }
            for (const ClientUser& existing : o->users) {
              if (existing.name == user->name) {
                return BadValue("user", absl::StrJoin(v, " "),
                                absl::StrCat("duplicate user '", user->name, "'"));
              }
            }
            o->users.push_back(*std::move(user));
            return absl::OkStatus();
          },
          [](const ProxyOptions& o) {
            std::vector<std::string> names;
            for (const ClientUser& u : o.users) names.push_back(u.name);
            return absl::StrJoin(names, " ");
          },
          /*repeatable=*/true};
}

OptionDef ControlPlaneOption() {
  return {"control-plane",
          [](ProxyOptions* o, const Values& v) -> absl::Status {
            if (auto s = ExpectOne("control-plane", v); !s.ok()) return s;
            if (!v[0].empty()) {
              auto address = ParseNodeAddress(v[0]);
              if (!address.ok()) {
                return BadValue("control-plane", v[0], std::string(address.status().message()));
              }
            }
            o->control_plane = v[0];
            return absl::OkStatus();
          },
          [](const ProxyOptions& o) { return o.control_plane; }};
}

const std::vector<OptionDef>& Options() {
  static const auto* options = new std::vector<OptionDef>{
      IntOption("port", &ProxyOptions::port, 0, 65535),
      BindOption(),
      IntOption("threads", &ProxyOptions::threads, 0, 256),
      IntOption("maxclients", &ProxyOptions::maxclients, 1, 1000000),
      IntOption("tcpkeepalive", &ProxyOptions::tcpkeepalive, 0, 86400),
      IntOption("tcp-backlog", &ProxyOptions::tcp_backlog, 1, 65535),
      BoolOption("daemonize", &ProxyOptions::daemonize),
      StringOption("pidfile", &ProxyOptions::pidfile),
      StringOption("logfile", &ProxyOptions::logfile),
      LogLevelOption(),
      EntryPointOption("cluster"),
      EntryPointOption("entry-point"),
      SecretOption("auth", &ProxyOptions::auth),
      StringOption("auth-user", &ProxyOptions::auth_user),
      BoolOption("enable-cross-slot", &ProxyOptions::enable_cross_slot),
      ReadPolicyOption(),
      IntOption("connections-pool-size", &ProxyOptions::connections_pool_size, 0, 1000),
      IntOption("connections-pool-min-size", &ProxyOptions::connections_pool_min_size, 0, 1000),
      IntOption("connections-pool-spawn-every", &ProxyOptions::connections_pool_spawn_every, 0,
                60000),
      IntOption("connections-pool-spawn-rate", &ProxyOptions::connections_pool_spawn_rate, 0, 1000),
      MultiplexingOption(),
      BoolOption("dump-queries", &ProxyOptions::dump_queries),
      BoolOption("dump-buffer", &ProxyOptions::dump_buffer),
      BoolOption("dump-queues", &ProxyOptions::dump_queues),
      MemoryOption("proto-max-bulk-len", &ProxyOptions::proto_max_bulk_len, 1024 * 1024),
      IntOption("max-multibulk-len", &ProxyOptions::max_multibulk_len, 1, 1LL << 31),
      MemoryOption("client-query-buffer-limit", &ProxyOptions::client_query_buffer_limit,
                   1024 * 1024),
      IntOption("topology-refresh-interval", &ProxyOptions::topology_refresh_interval_ms, 100,
                3600000),
      IntOption("backend-connect-timeout", &ProxyOptions::backend_connect_timeout_ms, 10, 60000),
      IntOption("max-redirects", &ProxyOptions::max_redirects, 1, 100),
      IntOption("tryagain-retries", &ProxyOptions::tryagain_retries, 0, 100),
      StringOption("metrics-bind", &ProxyOptions::metrics_bind),
      IntOption("metrics-port", &ProxyOptions::metrics_port, 0, 65535),
      SecretOption("requirepass", &ProxyOptions::requirepass),
      UserOption(),
      ControlPlaneOption(),
      StringOption("control-plane-token-file", &ProxyOptions::control_plane_token_file),
      StringOption("control-plane-cache", &ProxyOptions::control_plane_cache),
      StringOption("control-plane-tls-ca", &ProxyOptions::control_plane_tls_ca),
      StringOption("control-plane-tls-cert", &ProxyOptions::control_plane_tls_cert),
      StringOption("control-plane-tls-key", &ProxyOptions::control_plane_tls_key),
      StringOption("proxy-id", &ProxyOptions::proxy_id),
  };
  return *options;
}

const OptionDef* FindOption(const std::string& name) {
  std::string lower = absl::AsciiStrToLower(name);
  for (const OptionDef& def : Options()) {
    if (lower == def.name) return &def;
  }
  return nullptr;
}

bool IsFlag(const OptionDef& def) {
  // A yes/no option may be given as a bare `--name` on the command line.
  return def.get(ProxyOptions()) == "no" || def.get(ProxyOptions()) == "yes";
}

}  // namespace

int ProxyOptions::EffectiveThreads() const {
  if (threads > 0) return threads;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? static_cast<int>(cores) : 1;
}

std::string ProxyOptions::EffectiveProxyId() const {
  if (!proxy_id.empty()) return proxy_id;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "localhost", ":", port);
}

absl::StatusOr<ClientUser> ParseUserRules(const std::vector<std::string>& values) {
  if (values.empty() || values[0].empty()) {
    return absl::InvalidArgumentError("a user needs a name, then ACL rules");
  }
  ClientUser user{values[0], {}, /*enabled=*/false, /*nopass=*/false};
  for (size_t i = 1; i < values.size(); ++i) {
    if (absl::Status s = ApplyUserRule(&user, values[i]); !s.ok()) return s;
  }
  return user;
}

absl::Status ApplyOption(ProxyOptions* options, const std::string& name, const Values& values) {
  const OptionDef* def = FindOption(name);
  if (def == nullptr) return absl::NotFoundError(absl::StrCat("unknown option '", name, "'"));
  return def->set(options, values);
}

absl::StatusOr<std::string> GetOption(const ProxyOptions& options, const std::string& name) {
  const OptionDef* def = FindOption(name);
  if (def == nullptr) return absl::NotFoundError(absl::StrCat("unknown option '", name, "'"));
  return def->get(options);
}

std::vector<std::string> OptionNames() {
  std::vector<std::string> names;
  for (const OptionDef& def : Options()) names.push_back(def.name);
  return names;
}

std::string UsageText() {
  return absl::StrCat(
      "Usage: slotplane-proxy [-c FILE] [-p PORT] [--OPTION VALUE ...] [HOST:PORT ...]\n"
      "  -c FILE        read options from a proxy.conf style file (one `name value` per line)\n"
      "  -p PORT        listen port (same as --port)\n"
      "  --OPTION VALUE set any config option; yes/no options may be given as --OPTION alone\n"
      "  HOST:PORT      cluster entry point (same as --cluster)\n"
      "  --version      print the version\n"
      "Options: ",
      absl::StrJoin(OptionNames(), ", "), "\n");
}

namespace {

// Applies the config file named by -c before anything else so that flags override it.
absl::Status ApplyConfigFileFirst(int argc, const char* const* argv, ProxyOptions* options) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) != "-c") continue;
    if (i + 1 >= argc) return absl::InvalidArgumentError("-c needs a config file path");
    auto directives = ReadConfigFile(argv[i + 1]);
    if (!directives.ok()) return directives.status();
    for (const ConfigDirective& d : *directives) {
      absl::Status s = ApplyOption(options, d.name, d.values);
      if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(d.Where(), ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProxyOptions> ParseCommandLine(int argc, const char* const* argv) {
  ProxyOptions options;
  if (auto s = ApplyConfigFileFirst(argc, argv, &options); !s.ok()) return s;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") return absl::CancelledError(UsageText());
    if (arg == "--version" || arg == "-v") {
      return absl::CancelledError(absl::StrCat("slotplane-proxy ", SLOTPLANE_VERSION, "\n"));
    }
    if (arg == "-c") {
      ++i;  // already applied
      continue;
    }
    if (arg == "-p") {
      if (i + 1 >= argc) return absl::InvalidArgumentError("-p needs a port");
      if (auto s = ApplyOption(&options, "port", {argv[++i]}); !s.ok()) return s;
      continue;
    }
    if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2);
      const OptionDef* def = FindOption(name);
      if (def == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
      bool has_value = i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0;
      if (!has_value && !IsFlag(*def)) {
        return absl::InvalidArgumentError(absl::StrCat("option ", arg, " needs a value"));
      }
      Values values = {has_value ? argv[++i] : "yes"};
      if (auto s = def->set(&options, values); !s.ok()) return s;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", arg));
    }
    if (auto s = ApplyOption(&options, "cluster", {arg}); !s.ok()) return s;
  }
  if (options.entry_points.empty() && options.control_plane.empty()) {
    return absl::InvalidArgumentError(
        "no cluster entry point: give one with --cluster HOST:PORT (or `cluster HOST:PORT` in the "
        "config file), or a control plane with --control-plane HOST:PORT");
  }
  if (options.control_plane_tls_cert.empty() != options.control_plane_tls_key.empty()) {
    return absl::InvalidArgumentError(
        "control-plane-tls-cert and control-plane-tls-key go together (mutual TLS)");
  }
  if (!options.control_plane_tls_cert.empty() && options.control_plane_tls_ca.empty()) {
    return absl::InvalidArgumentError("control-plane-tls-cert needs control-plane-tls-ca");
  }
  return options;
}

}  // namespace slotplane::dataplane
