#include "controlplane/options.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fleet_options.h"
#include "common/option_table.h"
#include "common/tls_options.h"
#include "controlplane/policy/policy_options.h"

namespace slotplane::control {
namespace {

using Def = OptionDef<ControlOptions>;

constexpr const char* kClusterHelp =
    "HOST:PORT of a cluster node; repeatable, comma-separated lists accepted";

// A fleet option given to slotplane-control: validated as the proxies would, then kept as an
// initial value of a new store's policy.
Def InitialPolicyDef(const FleetOption& option) {
  Def def = SingleValueOption<ControlOptions>(
      option.name(),
      [&option](ControlOptions* o, const std::string& text) -> absl::Status {
        FleetSettings scratch;
        if (absl::Status s = option.Parse(text, &scratch); !s.ok()) return s;
        o->initial_policy[option.name()] = text;
        return absl::OkStatus();
      },
      [&option](const ControlOptions& o) {
        FleetSettings settings;
        auto it = o.initial_policy.find(option.name());
        if (it != o.initial_policy.end()) option.Parse(it->second, &settings).IgnoreError();
        return option.Show(settings);
      });
  def.yes_no = option.yes_no();
  def.secret = option.secret();
  if (option.multi_word()) {
    // `client-output-buffer-limit normal 1mb 0 0`: several words; each line adds its classes.
    def.repeatable = true;
    def.set = [&option](ControlOptions* o, const OptionValues& values) -> absl::Status {
      FleetSettings settings;
      auto it = o->initial_policy.find(option.name());
      if (it != o->initial_policy.end()) option.Parse(it->second, &settings).IgnoreError();
      if (absl::Status s = option.Parse(absl::StrJoin(values, " "), &settings); !s.ok()) return s;
      o->initial_policy[option.name()] = option.Show(settings);
      return absl::OkStatus();
    };
  }
  return def;
}

// auth, auth-user: slotplane-control's own credentials for the cluster nodes (discovery), which
// also seed a new store's policy.
Def CredentialDef(const char* name, std::string ControlOptions::*field, const char* help) {
  Def def = InitialPolicyDef(*FindFleetOption(name));
  def.set = [set = def.set, field](ControlOptions* o, const OptionValues& values) {
    absl::Status s = set(o, values);
    if (s.ok()) o->*field = values[0];
    return s;
  };
  def.help = help;
  return def;
}

const OptionTable<ControlOptions>& Table() {
  using O = ControlOptions;
  static const auto* table = new OptionTable<ControlOptions>(WithFleetOptions<ControlOptions>(
      WithTlsOptions<ControlOptions>(
          {
              AddressOption("listen", &O::listen, /*allow_empty=*/false,
                            "HOST:PORT of the gRPC services (default 127.0.0.1:7700)"),
              AddressListOption("cluster", &O::cluster, kClusterHelp),
              AddressListOption("entry-point", &O::cluster, kClusterHelp),
              StringOption("data-dir", &O::data_dir,
                           "directory of the durable store (same as --store file:DIR)"),
              StringOption("store", &O::store,
                           "file:DIR | etcd://HOST:PORT[,HOST:PORT...] (or data-dir; one is "
                           "required)"),
              StringOption("etcd-prefix", &O::etcd_prefix,
                           "prefix of the etcd store's keys (default /slotplane/)"),
              StringOption("etcd-tls-ca", &O::etcd_tls_ca, "PEM CA: talk to etcd over TLS"),
              StringOption("etcd-tls-cert", &O::etcd_tls_cert,
                           "PEM client certificate for etcd (needs etcd-tls-key)"),
              StringOption("etcd-tls-key", &O::etcd_tls_key, "PEM private key of etcd-tls-cert"),
              StringOption("etcd-user", &O::etcd_user, "etcd user (needs etcd-password-file)"),
              StringOption("etcd-password-file", &O::etcd_password_file,
                           "file with the etcd user's password"),
              StringOption("replica-id", &O::replica_id,
                           "this replica's name in the etcd store (default hostname:listen-port)"),
              StringOption("advertise", &O::advertise,
                           "this replica's address as status shows it (default listen)"),
              IntOption("poll-interval", &O::poll_interval_ms, 50, 3600000,
                        "ms between topology polls (default 1000)"),
              IntOption("refresh-min-gap", &O::refresh_min_gap_ms, 10, 60000,
                        "ms between refreshes asked for by MOVED reports (default 200)"),
              IntOption("backend-connect-timeout", &O::backend_connect_timeout_ms, 10, 60000,
                        "ms to connect to / hear from a node (default 1000)"),
              StringOption("admin-token-file", &O::admin_token_file,
                           "file with the admin API's bearer token (else $SLOTPLANE_ADMIN_TOKEN)"),
              StringOption("proxy-token-file", &O::proxy_token_file,
                           "file with the proxies' watch-stream token, not the admin token (else "
                           "$SLOTPLANE_PROXY_TOKEN; a proxy token or tls-client-ca is required)"),
              StringOption("metrics-bind", &O::metrics_bind,
                           "address of /metrics and /healthz (default 127.0.0.1)"),
              IntOption("metrics-port", &O::metrics_port, 0, 65535,
                        "port of /metrics and /healthz (default 0: off)"),
              EnumOption("log-level", &O::log_level, kLogLevelChoices,
                         "debug | info | success | warning | error (default info)"),
              StringOption("logfile", &O::logfile, "log to this file (appended) instead of stderr"),
              StringOption("pidfile", &O::pidfile, "write the process id here"),
              StringOption("tls-cert", &O::tls_cert,
                           "PEM server certificate: serve TLS (needs tls-key)"),
              StringOption("tls-key", &O::tls_key, "PEM private key of tls-cert"),
              StringOption("tls-client-ca", &O::tls_client_ca,
                           "PEM CA: watch streams need a client certificate it signed (mTLS)"),
              CredentialDef("auth", &O::auth,
                            "password for the cluster nodes (discovery; a new policy's auth)"),
              CredentialDef("auth-user", &O::auth_user, "ACL user for auth"),
              YesNoOption("tls-cluster", &O::tls_cluster,
                          "poll the cluster nodes over TLS (needs tls-ca-cert-file)"),
          },
          &O::node_tls, /*listener=*/false),
      InitialPolicyDef));
  return *table;
}

absl::Status CheckCombinations(const ControlOptions& options) {
  if (options.cluster.empty()) {
    return absl::InvalidArgumentError(
        "no cluster entry point: give one with --cluster HOST:PORT (or `cluster HOST:PORT` in the "
        "config file)");
  }
  if (options.data_dir.empty() && options.store.empty()) {
    return absl::InvalidArgumentError(
        "no store: give --store file:DIR, --store etcd://HOST:PORT,... or --data-dir DIR (where "
        "the policy and version are kept)");
  }
  absl::StatusOr<StoreSpec> store = ParseStore(options);
  if (!store.ok()) return store.status();
  const bool etcd_options =
      !options.etcd_tls_ca.empty() || !options.etcd_tls_cert.empty() || !options.etcd_user.empty();
  if (store->endpoints.empty() && etcd_options) {
    return absl::InvalidArgumentError("the etcd-* options need --store etcd://...");
  }
  if (options.etcd_tls_cert.empty() != options.etcd_tls_key.empty()) {
    return absl::InvalidArgumentError("options 'etcd-tls-cert' and 'etcd-tls-key' go together");
  }
  if (!options.etcd_tls_cert.empty() && options.etcd_tls_ca.empty()) {
    return absl::InvalidArgumentError("option 'etcd-tls-cert' needs 'etcd-tls-ca'");
  }
  if (options.etcd_user.empty() != options.etcd_password_file.empty()) {
    return absl::InvalidArgumentError("options 'etcd-user' and 'etcd-password-file' go together");
  }
  if (options.etcd_prefix.empty() || options.etcd_prefix.back() != '/') {
    return absl::InvalidArgumentError("option 'etcd-prefix' must end with '/'");
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("options 'tls-cert' and 'tls-key' go together");
  }
  if (!options.tls_client_ca.empty() && options.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "option 'tls-client-ca' needs TLS: give 'tls-cert' and 'tls-key' too");
  }
  return CheckTlsSettings(options.node_tls, /*listener=*/false, options.tls_cluster);
}

}  // namespace

absl::StatusOr<StoreSpec> ParseStore(const ControlOptions& options) {
  if (!options.data_dir.empty() && !options.store.empty()) {
    return absl::InvalidArgumentError(
        "options 'store' and 'data-dir' both given: use one (data-dir DIR is store file:DIR)");
  }
  StoreSpec spec;
  if (!options.data_dir.empty()) {
    spec.dir = options.data_dir;
    return spec;
  }
  constexpr absl::string_view kFile = "file:";
  constexpr absl::string_view kEtcd = "etcd://";
  const absl::string_view store = options.store;
  if (absl::StartsWith(store, kFile) && store.size() > kFile.size()) {
    spec.dir = std::string(store.substr(kFile.size()));
    return spec;
  }
  if (absl::StartsWith(store, kEtcd)) {
    for (absl::string_view endpoint :
         absl::StrSplit(store.substr(kEtcd.size()), ',', absl::SkipWhitespace())) {
      if (!ParseNodeAddress(std::string(endpoint)).ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option 'store': '", endpoint, "' is not HOST:PORT"));
      }
      spec.endpoints.emplace_back(endpoint);
    }
    if (!spec.endpoints.empty()) return spec;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "option 'store': '", store, "' is neither file:DIR nor etcd://HOST:PORT[,HOST:PORT...]"));
}

ProcessOptions ControlOptions::Process() const {
  return {log_level, logfile, pidfile, /*daemonize=*/false};
}

absl::Status ApplyControlOption(ControlOptions* options, const std::string& name,
                                const std::vector<std::string>& values) {
  absl::Status s = Table().Apply(options, name, values);
  // Every error of this function is InvalidArgument, unknown options too.
  if (absl::IsNotFound(s)) return absl::InvalidArgumentError(s.message());
  return s;
}

std::string ControlUsageText() {
  std::string text =
      "Usage: slotplane-control --cluster HOST:PORT [--cluster ...] --store "
      "file:DIR|etcd://HOST:PORT,... "
      "[--listen HOST:PORT] [-c FILE] [--OPTION VALUE ...]\n"
      "  -c FILE          read options from a config file (one `name value` per line, as "
      "proxy.conf)\n"
      "  --version        print the version\n"
      "  --check-config   check the options and the files they name, then exit (0: usable)\n"
      "Options (each also a config-file key):\n";
  for (const Def& def : Table().defs()) {
    if (def.help.empty()) continue;  // a fleet option, listed below
    const size_t width = def.name.size();
    absl::StrAppend(&text, "  --", def.name, std::string(width < 24 ? 24 - width : 1, ' '),
                    def.help, "\n");
  }
  absl::StrAppend(&text, "Fleet-wide policy options (", absl::StrJoin(PolicyOptionNames(), ", "),
                  ") are accepted too: they set the initial policy of a new store.\n"
                  "Environment: SLOTPLANE_ADMIN_TOKEN (admin token when no admin-token-file), "
                  "SLOTPLANE_PROXY_TOKEN (proxy token when no proxy-token-file).\n");
  return text;
}

absl::StatusOr<ControlOptions> ParseControlCommandLine(int argc, const char* const* argv) {
  const CommandLineSpec spec{"slotplane-control", ControlUsageText, {}, "cluster"};
  return Table().ParseCommandLine(argc, argv, spec, CheckCombinations);
}

std::vector<std::string> HideSecretArguments(int argc, char** argv) {
  return Table().HideSecretArguments(argc, argv);
}

}  // namespace slotplane::control
