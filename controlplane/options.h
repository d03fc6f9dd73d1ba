#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cluster_view.h"
#include "common/daemon.h"
#include "common/logging.h"
#include "common/tls_config.h"

namespace slotplane::control {

// Every setting of slotplane-control. Each is a config-file key (`-c FILE`, proxy.conf format)
// and a `--key value` flag; flags override the file.
struct ControlOptions {
  std::string listen = "127.0.0.1:7700";  // gRPC address of both services
  std::vector<NodeAddress> cluster;       // entry points (required), repeatable
  std::string data_dir;                   // the file store's directory (= store file:DIR)
  // Where the state is kept: "file:DIR" or "etcd://host:port,host:port". Exactly one of store
  // and data-dir; ParseStore reads it.
  std::string store;
  std::string etcd_prefix = "/slotplane/";  // every key of the etcd store starts with it
  std::string etcd_tls_ca;                  // PEM CA: TLS towards etcd
  std::string etcd_tls_cert;                // PEM client certificate for etcd (with the key)
  std::string etcd_tls_key;
  std::string etcd_user;                  // etcd auth user
  std::string etcd_password_file;         // its password (first line)
  std::string replica_id;                 // empty: hostname:listen-port
  std::string advertise;                  // address shown in status; empty: listen
  int poll_interval_ms = 1000;            // topology poll interval
  int refresh_min_gap_ms = 200;           // MOVED-triggered refreshes at least this far apart
  int backend_connect_timeout_ms = 1000;  // discovery connect/read timeout per node
  std::string admin_token_file;           // else $SLOTPLANE_ADMIN_TOKEN; neither: admin open
  // The proxies' credential for the watch stream, else $SLOTPLANE_PROXY_TOKEN; without it (and
  // without tls_client_ca) the control plane does not start.
  std::string proxy_token_file;
  std::string metrics_bind = "127.0.0.1";
  int metrics_port = 0;  // 0: no /metrics endpoint
  LogLevel log_level = LogLevel::kInfo;
  std::string logfile;  // empty: stderr
  std::string pidfile;
  std::string tls_cert;       // PEM server certificate (chain); with tls_key enables TLS
  std::string tls_key;        // PEM private key
  std::string tls_client_ca;  // PEM CA: proxies must present a certificate it signed (mTLS)
  std::string auth;           // password towards the cluster (discovery; seeds a new policy)
  std::string auth_user;      // ACL user for `auth`
  // Topology polling over TLS, with Redis's option names: tls-cluster, tls-ca-cert-file,
  // tls-client-cert-file, ... (the gRPC side's TLS is tls-cert/tls-key/tls-client-ca above).
  bool tls_cluster = false;
  TlsSettings node_tls;
  // Other fleet-wide options given to slotplane-control (e.g. `enable-cross-slot yes`): the
  // initial values of a new store's policy. Ignored once the store holds a policy.
  std::map<std::string, std::string> initial_policy;

  // log-level, logfile and pidfile, for RunDaemon (common/daemon.h).
  ProcessOptions Process() const;
};

// The store option, parsed: a directory (file store) or etcd endpoints.
struct StoreSpec {
  std::string dir;                     // file store: not empty
  std::vector<std::string> endpoints;  // etcd: host:port each
};
absl::StatusOr<StoreSpec> ParseStore(const ControlOptions& options);

// Applies one option by its config-file name. Fleet-wide policy options go to initial_policy
// (validated). Errors are InvalidArgument and name the option.
absl::Status ApplyControlOption(ControlOptions* options, const std::string& name,
                                const std::vector<std::string>& values);

// Parses the command line: `-c FILE` (read first; flags override it), `--name value` for any
// option, `--name` alone for a yes/no option, positional `host:port` entry points. `-h`/`--help`
// and `--version` return Cancelled with the text to print. Checks that the required options are
// there and that TLS options come in usable combinations.
absl::StatusOr<ControlOptions> ParseControlCommandLine(int argc, const char* const* argv);

// Blanks the values of secret options (auth, TLS passphrases) given on the command line, so the
// process list does not show them; returns their names (OptionTable).
std::vector<std::string> HideSecretArguments(int argc, char** argv);

std::string ControlUsageText();

}  // namespace slotplane::control
