#include "dataplane/core/proxy_config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/acl_rules.h"
#include "common/config_file.h"
#include "common/option_table.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "common/tls_options.h"
#include "dataplane/command/acl_catalog.h"
#include "dataplane/net/io_engine.h"

namespace slotplane::dataplane {
namespace {

using Def = OptionDef<ProxyOptions>;

constexpr const char* kMultiplexingNames[] = {"auto", "always"};
const EnumNames kMultiplexingChoices{kMultiplexingNames};
constexpr const char* kShutdownNames[] = {"no", "yes", "local"};
const EnumNames kShutdownChoices{kShutdownNames};
const EnumNames kIoEngineChoices{kIoEngineNames};

void RemoveHash(std::vector<std::string>* hashes, const std::string& hash) {
  hashes->erase(std::remove(hashes->begin(), hashes->end(), hash), hashes->end());
}

// Rules that are one word and change the user's state, not its passwords' list.
struct KeywordRule {
  const char* name;
  void (*apply)(ClientUser* user);
};

constexpr KeywordRule kKeywordRules[] = {
    {"on", [](ClientUser* user) { user->enabled = true; }},
    {"off", [](ClientUser* user) { user->enabled = false; }},
    {"nopass",
     [](ClientUser* user) {
       user->nopass = true;
       user->password_sha256.clear();
     }},
    {"resetpass",
     [](ClientUser* user) {
       user->nopass = false;
       user->password_sha256.clear();
     }},
    {"reset",
     [](ClientUser* user) {
       *user = ClientUser{user->name,       {},     /*enabled=*/false, /*nopass=*/false,
                          AclPermissions{}, nullptr};
     }},
};

// `>password`, `#hash` add a password (and end nopass); `<password`, `!hash` remove one, which
// must exist (Redis's rule). Errors never show the password (AclRuleError redacts it).
absl::Status ApplyPasswordRule(ClientUser* user, const std::string& rule, const std::string& hash) {
  const bool add = rule[0] == '>' || rule[0] == '#';
  const auto& hashes = user->password_sha256;
  if (!add && std::find(hashes.begin(), hashes.end(), hash) == hashes.end()) {
    return absl::InvalidArgumentError(
        AclRuleError(rule, "The password you are trying to remove from the user does not exist"));
  }
  RemoveHash(&user->password_sha256, hash);
  if (add) {
    user->password_sha256.push_back(hash);
    user->nopass = false;
  }
  return absl::OkStatus();
}

absl::Status ApplyUserRule(ClientUser* user, const std::string& rule) {
  const std::string lower = absl::AsciiStrToLower(rule);
  for (const KeywordRule& keyword : kKeywordRules) {
    if (lower == keyword.name) {
      keyword.apply(user);
      return absl::OkStatus();
    }
  }
  const char kind = rule.empty() ? '\0' : rule[0];
  if (kind == '>' || kind == '<') {
    return ApplyPasswordRule(user, rule, Sha256Hex(std::string_view(rule).substr(1)));
  } else if (kind == '#' || kind == '!') {
    const std::string hash = absl::AsciiStrToLower(rule.substr(1));
    if (!IsSha256Hex(hash)) {
      return absl::InvalidArgumentError(
          AclRuleError(rule,
                       "The password hash must be exactly 64 characters and contain only lowercase "
                       "hexadecimal characters"));
    }
    return ApplyPasswordRule(user, rule, hash);
  } else {
    // Commands, keys and channels: Redis's syntax and errors (common/acl_rules.h).
    absl::Status s = ApplyAclPermissionRule(&user->permissions, rule, &CommandTableAclCatalog());
    if (absl::IsNotFound(s)) return absl::InvalidArgumentError(AclRuleError(rule, "Syntax error"));
    return s;
  }
  return absl::OkStatus();
}

// `control-plane`: one address or a comma-separated list (ControlPlaneAddresses), kept as
// written; "" is standalone.
Def ControlPlaneOption() {
  return SingleValueOption<ProxyOptions>(
      "control-plane",
      [](ProxyOptions* o, const std::string& text) -> absl::Status {
        if (!text.empty()) {
          absl::StatusOr<std::vector<NodeAddress>> addresses = ControlPlaneAddresses(text);
          if (!addresses.ok()) return addresses.status();
        }
        o->control_plane = text;
        return absl::OkStatus();
      },
      [](const ProxyOptions& o) { return o.control_plane; });
}

// `user NAME RULES...`, repeatable. Its values hold passwords: errors never show them.
Def UserOption() {
  Def def;
  def.name = "user";
  def.set = [](ProxyOptions* o, const OptionValues& v) -> absl::Status {
    // On the command line the whole rule list is one argument (`--user "alice on >secret"`):
    // split it like a config line.
    OptionValues words = v;
    if (v.size() == 1 && !SplitConfigLine(v[0], &words)) {
      return BadSecretValue("user", "unbalanced quotes");
    }
    auto user = ParseUserRules(words);
    if (!user.ok()) return BadSecretValue("user", StdView(user.status().message()));
    for (const ClientUser& existing : o->users) {
      if (existing.name == user->name) {
        return BadSecretValue("user", absl::StrCat("duplicate user '", Echoed(user->name), "'"));
      }
    }
    o->users.push_back(*std::move(user));
    return absl::OkStatus();
  };
  def.get = [](const ProxyOptions& o) {
    std::vector<std::string> names;
    for (const ClientUser& u : o.users) names.push_back(u.name);
    return absl::StrJoin(names, " ");
  };
  def.repeatable = true;
  def.secret = true;  // `>password` rules
  return def;
}

// File permission bits written in octal, as Redis's `unixsocketperm` (`700`, `0770`; at most 777),
// shown back in octal without a leading zero as Redis's CONFIG GET does.
Def OctalPermOption(const std::string& name, int ProxyOptions::*field) {
  return SingleValueOption<ProxyOptions>(
      name,
      [=](ProxyOptions* o, const std::string& text) -> absl::Status {
        int value = 0;
        for (char c : text) {
          if (c < '0' || c > '7' || value > 0777) {
            return BadOptionValue(name, text, "not an octal permission such as 700");
          }
          value = value * 8 + (c - '0');
        }
        if (text.empty() || value > 0777) {
          return BadOptionValue(name, text, "not an octal permission such as 700");
        }
        o->*field = value;
        return absl::OkStatus();
      },
      [=](const ProxyOptions& o) { return absl::StrFormat("%o", o.*field); });
}

// A fleet option (common/fleet_options.h), set in the FleetSettings part of ProxyOptions.
Def FleetDef(const FleetOption& option) {
  Def def = SingleValueOption<ProxyOptions>(
      option.name(),
      [&option](ProxyOptions* o, const std::string& text) { return option.Parse(text, o); },
      [&option](const ProxyOptions& o) { return option.Show(o); });
  def.yes_no = option.yes_no();
  def.secret = option.secret();
  if (option.multi_word()) {
    // `client-output-buffer-limit normal 1mb 0 0` is one value of four words; a line per class
    // adds to the option, as in redis.conf.
    def.repeatable = true;
    def.set = [&option](ProxyOptions* o, const OptionValues& values) {
      return option.Parse(absl::StrJoin(values, " "), o);
    };
  }
  return def;
}

// Where the fleet option `name` stands in the table below.
Def Fleet(const char* name) {
  const FleetOption* option = FindFleetOption(name);
  if (option == nullptr) {
    std::fprintf(stderr, "slotplane-proxy: '%s' is not a fleet option\n", name);
    std::abort();  // a mistake in the table below, caught by every test
  }
  return FleetDef(*option);
}

// Every option, in proxy.conf's order (redis-cluster-proxy's, then slotplane's additions): the
// order of PROXY CONFIG GET and --help. Fleet options the list does not place come last, so that
// a new one needs no edit here.
const OptionTable<ProxyOptions>& Table() {
  using O = ProxyOptions;
  static const auto* table = new OptionTable<ProxyOptions>(WithFleetOptions<ProxyOptions>(
      WithTlsOptions<ProxyOptions>(
          {
              IntOption("port", &O::port, 0, 65535),
              StringListOption("bind", &O::bind),
              IntOption("threads", &O::threads, 0, 256),
              Fleet("maxclients"),
              IntOption("tcpkeepalive", &O::tcpkeepalive, 0, 86400),
              IntOption("tcp-backlog", &O::tcp_backlog, 1, 65535),
              StringOption("unixsocket", &O::unixsocket),
              OctalPermOption("unixsocketperm", &O::unixsocketperm),
              YesNoOption("daemonize", &O::daemonize),
              StringOption("pidfile", &O::pidfile),
              StringOption("logfile", &O::logfile),
              Fleet("log-level"),
              AddressListOption("cluster", &O::entry_points),
              AddressListOption("entry-point", &O::entry_points),
              Fleet("auth"),
              Fleet("auth-user"),
              Fleet("enable-cross-slot"),
              Fleet("read-policy"),
              Fleet("connections-pool-size"),
              Fleet("connections-pool-min-size"),
              Fleet("connections-pool-spawn-every"),
              Fleet("connections-pool-spawn-rate"),
              EnumOption("disable-multiplexing", &O::disable_multiplexing, kMultiplexingChoices),
              EnumOption("enable-proxy-shutdown", &O::enable_proxy_shutdown, kShutdownChoices),
              Fleet("dump-queries"),
              Fleet("dump-buffer"),
              Fleet("dump-queues"),
              Fleet("proto-max-bulk-len"),
              Fleet("max-multibulk-len"),
              Fleet("client-query-buffer-limit"),
              Fleet("client-output-buffer-limit"),
              Fleet("timeout"),
              IntOption("topology-refresh-interval", &O::topology_refresh_interval_ms, 100,
                        3600000),
              IntOption("backend-connect-timeout", &O::backend_connect_timeout_ms, 10, 60000),
              Fleet("max-redirects"),
              Fleet("tryagain-retries"),
              Fleet("failover-hold-timeout"),
              Fleet("backend-timeout"),
              Fleet("failover-resend-commands"),
              Fleet("tracking-table-max-keys"),
              StringOption("metrics-bind", &O::metrics_bind),
              IntOption("metrics-port", &O::metrics_port, 0, 65535),
              SecretOption("requirepass", &O::requirepass),
              UserOption(),
              ControlPlaneOption(),
              StringOption("control-plane-token-file", &O::control_plane_token_file),
              StringOption("control-plane-proxy-token-file", &O::control_plane_proxy_token_file),
              StringOption("control-plane-cache", &O::control_plane_cache),
              StringOption("control-plane-tls-ca", &O::control_plane_tls_ca),
              StringOption("control-plane-tls-cert", &O::control_plane_tls_cert),
              StringOption("control-plane-tls-key", &O::control_plane_tls_key),
              StringOption("proxy-id", &O::proxy_id),
              IntOption("shutdown-timeout", &O::shutdown_timeout, 0, 3600),
              IntOption("tls-port", &O::tls_port, 0, 65535),
              YesNoOption("tls-cluster", &O::tls_cluster),
              EnumOption("io-engine", &O::io_engine, kIoEngineChoices),
              IntOption("io-uring-recv-buffers", &O::io_uring_recv_buffers, 16, 32768),
          },
          &O::tls, /*listener=*/true),
      FleetDef));
  return *table;
}

// One --help line per option (TLS options bring their own, common/tls_options.h). Every option
// has one: a unit test checks it.
struct HelpLine {
  const char* name;
  const char* text;
};
constexpr HelpLine kHelpLines[] = {
    {"port", "TCP listen port (0: a free one; with tls-port, no plaintext listener)"},
    {"bind", "listen address, repeatable (none: all interfaces)"},
    {"threads", "worker threads, each with its own listener (0: one per core)"},
    {"maxclients", "client connections; more get -ERR max number of clients reached"},
    {"tcpkeepalive", "seconds between TCP keepalive probes to clients (0: off)"},
    {"tcp-backlog", "listen backlog"},
    {"unixsocket", "also listen on this Unix domain socket path (none: no unix socket)"},
    {"unixsocketperm", "octal permission bits of the unix socket file (0: the umask's)"},
    {"daemonize", "run in the background"},
    {"pidfile", "write the process id to this file"},
    {"logfile", "append the log to this file (none: stderr; SIGHUP reopens it)"},
    {"log-level", "debug | info | success | warning | error"},
    {"cluster", "HOST:PORT of a cluster node (entry point), repeatable"},
    {"entry-point", "same as cluster"},
    {"auth", "password for the cluster nodes (never shown)"},
    {"auth-user", "ACL user for the cluster nodes (none: default)"},
    {"enable-cross-slot", "split MGET, MSET, DEL, ... whose keys span slots (no: -CROSSSLOT)"},
    {"read-policy", "master | prefer-master | replica | prefer-replica | any"},
    {"connections-pool-size", "idle private connections each worker keeps per node for reuse"},
    {"connections-pool-min-size", "redis-cluster-proxy compatibility; no effect"},
    {"connections-pool-spawn-every", "redis-cluster-proxy compatibility; no effect"},
    {"connections-pool-spawn-rate", "redis-cluster-proxy compatibility; no effect"},
    {"disable-multiplexing", "auto | always: a private connection for each client"},
    {"enable-proxy-shutdown", "who may run PROXY SHUTDOWN: no | yes | local"},
    {"dump-queries", "redis-cluster-proxy compatibility; no effect"},
    {"dump-buffer", "redis-cluster-proxy compatibility; no effect"},
    {"dump-queues", "redis-cluster-proxy compatibility; no effect"},
    {"proto-max-bulk-len", "largest bulk string a client may send"},
    {"max-multibulk-len", "most arguments in one command"},
    {"client-query-buffer-limit", "a client with more unparsed input is disconnected"},
    {"client-output-buffer-limit", "CLASS HARD SOFT SECONDS, as Redis (normal, pubsub)"},
    {"timeout", "close clients idle this many seconds (0: never)"},
    {"topology-refresh-interval", "ms between CLUSTER SHARDS polls"},
    {"backend-connect-timeout", "ms to connect to a cluster node"},
    {"max-redirects", "MOVED/ASK hops per command"},
    {"tryagain-retries", "retries of a TRYAGAIN answer"},
    {"failover-hold-timeout", "ms a lost master's requests wait for its replacement (0: fail)"},
    {"backend-timeout", "ms a cluster node may leave a request unanswered (0: no limit)"},
    {"failover-resend-commands",
     "writes sent again when their node died after they were written (e.g. set,del)"},
    {"tracking-table-max-keys", "keys tracked for CLIENT TRACKING, over all workers (>= 1)"},
    {"metrics-bind", "address of /metrics, /healthz and /readyz"},
    {"metrics-port", "port of /metrics, /healthz and /readyz (0: none)"},
    {"requirepass", "password of the default user (clients AUTH)"},
    {"user", "NAME RULES...: a client user with Redis ACL rules, repeatable"},
    {"control-plane",
     "HOST:PORT of slotplane-control, or a comma-separated list of its replicas (none: "
     "standalone)"},
    {"control-plane-token-file", "admin token file for PROXY CONFIG SET through the control plane"},
    {"control-plane-proxy-token-file", "proxy credential file (else $SLOTPLANE_PROXY_TOKEN)"},
    {"control-plane-cache", "file keeping the last good snapshot (none: no cache)"},
    {"control-plane-tls-ca", "CA file; turns on TLS to the control plane"},
    {"control-plane-tls-cert", "client certificate for mutual TLS (with the key)"},
    {"control-plane-tls-key", "private key of control-plane-tls-cert"},
    {"proxy-id", "name in the fleet (none: hostname:port)"},
    {"shutdown-timeout", "seconds SIGTERM waits for in-flight requests"},
    {"tls-port", "TLS listener beside port (0: none)"},
    {"tls-cluster", "TLS to the cluster nodes"},
    {"io-engine", "epoll | io_uring | auto: how workers wait and write (auto: io_uring if usable)"},
    {"io-uring-recv-buffers",
     "4 KB buffers in each worker's io_uring receive ring, a power of two (16-32768)"},
};

const char* HelpOf(const Def& def) {
  if (!def.help.empty()) return def.help.c_str();
  for (const HelpLine& line : kHelpLines) {
    if (def.name == line.name) return line.text;
  }
  return "";
}

// Fleet options (and the client users) change at runtime: PROXY CONFIG SET or the control
// plane's policy. Every other option is read at start.
bool ChangesAtRuntime(const std::string& name) {
  return FindFleetOption(name) != nullptr || name == "requirepass" || name == "user";
}

absl::Status CheckCombinations(const ProxyOptions& options) {
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
  const int buffers = options.io_uring_recv_buffers;
  if ((buffers & (buffers - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "io-uring-recv-buffers must be a power of two (16, 32, ... 32768), got ", buffers));
  }
  return CheckTlsSettings(options.tls, options.tls_port != 0, options.tls_cluster);
}

}  // namespace

ProcessOptions ProxyOptions::Process() const { return {log_level, logfile, pidfile, daemonize}; }

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
  // As Redis's `user` lines: the user starts from `reset` (off, no password, no permission).
  ClientUser user{values[0], {}, /*enabled=*/false, /*nopass=*/false, AclPermissions{}, nullptr};
  for (size_t i = 1; i < values.size(); ++i) {
    if (absl::Status s = ApplyUserRule(&user, values[i]); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("user '", Echoed(user.name), "': ", s.message()));
    }
  }
  return user;
}

absl::Status ApplyOption(ProxyOptions* options, const std::string& name,
                         const std::vector<std::string>& values) {
  return Table().Apply(options, name, values);
}

absl::StatusOr<std::vector<NodeAddress>> ControlPlaneAddresses(std::string_view text) {
  std::vector<NodeAddress> parsed;
  absl::Status s = ParseAddressList("control-plane", {std::string(text)}, &parsed);
  if (!s.ok()) return s;
  if (parsed.empty()) {
    return BadOptionValue("control-plane", text, "expected host:port or a list host:port,...");
  }
  std::vector<NodeAddress> addresses;
  for (NodeAddress& address : parsed) {
    if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
      addresses.push_back(std::move(address));
    }
  }
  return addresses;
}

absl::StatusOr<std::string> GetOption(const ProxyOptions& options, const std::string& name) {
  return Table().Get(options, name);
}

std::vector<std::string> OptionNames() { return Table().Names(); }

std::string UsageText() {
  std::string text =
      "Usage: slotplane-proxy [-c FILE] [-p PORT] [--OPTION VALUE ...] [HOST:PORT ...]\n"
      "  -c FILE          read options from a proxy.conf style file (one `name value` per line)\n"
      "  -p PORT          listen port (same as --port)\n"
      "  HOST:PORT        cluster entry point (same as --cluster)\n"
      "  --version        print the version\n"
      "  --check-config   check the options and the files they name, then exit (0: usable)\n"
      "Options (each also a config-file key; yes/no ones may be given as --OPTION alone).\n"
      "[runtime]: PROXY CONFIG SET or the control plane's policy changes it while running;\n"
      "[restart]: read at start only.\n";
  const ProxyOptions defaults;
  for (const Def& def : Table().defs()) {
    const size_t width = def.name.size();
    std::string shown = def.get(defaults);
    if (shown.empty()) shown = "none";
    absl::StrAppend(&text, "  --", def.name, std::string(width < 30 ? 30 - width : 1, ' '),
                    HelpOf(def), " (default ", shown, ") [",
                    ChangesAtRuntime(def.name) ? "runtime" : "restart", "]\n");
  }
  absl::StrAppend(&text,
                  "Environment: SLOTPLANE_PROXY_TOKEN (proxy credential when no "
                  "control-plane-proxy-token-file).\n");
  return text;
}

absl::StatusOr<ProxyOptions> ParseCommandLine(int argc, const char* const* argv) {
  const CommandLineSpec spec{"slotplane-proxy", UsageText, {{"-p", "port", "port"}}, "cluster"};
  return Table().ParseCommandLine(argc, argv, spec, CheckCombinations);
}

std::vector<std::string> HideSecretArguments(int argc, char** argv) {
  return Table().HideSecretArguments(argc, argv);
}

}  // namespace slotplane::dataplane
