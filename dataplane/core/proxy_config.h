#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cluster_view.h"
#include "common/daemon.h"
#include "common/fleet_options.h"
#include "common/logging.h"
#include "common/tls_config.h"
#include "dataplane/core/client_user.h"

namespace slotplane::dataplane {

// Every setting of slotplane-proxy. Names and meanings follow redis-cluster-proxy's proxy.conf
// (see README.md); slotplane's own additions are marked. The fleet options (enable-cross-slot,
// read-policy, log-level, maxclients, the limits, auth, auth-user, the pool and dump options) are
// the FleetSettings fields (common/fleet_options.h); the fields below are this process's own.
struct ProxyOptions : FleetSettings {
  uint16_t port = 7777;
  std::vector<std::string> bind;  // empty: all interfaces (0.0.0.0)
  int threads = 0;                // 0: one per core
  int tcpkeepalive = 300;         // seconds; 0 disables
  int tcp_backlog = 511;
  // A Unix domain socket listener beside the TCP ones, as Redis's `unixsocket` (empty: none), and
  // its file's permission bits (`unixsocketperm`, octal; 0: whatever the umask gives).
  std::string unixsocket;
  int unixsocketperm = 0;
  bool daemonize = false;
  std::string pidfile;
  std::string logfile;
  std::vector<NodeAddress> entry_points;  // `cluster` / `entry-point`, repeatable
  std::string disable_multiplexing = "auto";
  // slotplane: the workers' event loops, "auto" | "epoll" | "io_uring" (net/io_engine.h).
  std::string io_engine = "epoll";
  // slotplane: buffers of each worker's io_uring receive ring, 4 KB each (a power of two; see
  // RecvRingShape in net/io_engine.h). Unused under epoll.
  int io_uring_recv_buffers = 256;
  // Who may run PROXY SHUTDOWN, as Redis's enable-debug-command: "no", "yes" or "local" (only
  // clients on a loopback connection). With client users, the user also needs @admin.
  std::string enable_proxy_shutdown = "local";
  // slotplane additions.
  int topology_refresh_interval_ms = 5000;  // periodic CLUSTER SHARDS poll
  int backend_connect_timeout_ms = 1000;
  std::string metrics_bind = "127.0.0.1";  // Prometheus /metrics address
  int metrics_port = 0;                    // 0: no metrics endpoint
  // slotplane: client authentication. `requirepass` is the password of the `default` user (as in
  // Redis); `user` lines (a subset of Redis's ACL rules) add users. A control plane's users, when
  // it has any, replace both.
  std::string requirepass;
  std::vector<ClientUser> users;
  // slotplane: the control plane. Empty `control_plane`: standalone.
  // host:port of slotplane-control as written: one address, a comma-separated list of replicas,
  // or a DNS name with several records (ControlPlaneAddresses).
  std::string control_plane;
  std::string control_plane_token_file;  // bearer token for the admin API (PROXY CONFIG SET, ...)
  // The proxy credential for the watch stream (else $SLOTPLANE_PROXY_TOKEN), not the admin token.
  std::string control_plane_proxy_token_file;
  std::string control_plane_cache;     // last good snapshot on disk; empty: no cache
  std::string control_plane_tls_ca;    // PEM files; a CA turns TLS on
  std::string control_plane_tls_cert;  // client certificate (mTLS), with the key
  std::string control_plane_tls_key;
  std::string proxy_id;  // empty: hostname:port
  // TLS, with Redis's option names and meanings. `tls_port`: a TLS listener beside `port` (0:
  // none); with a tls-port, `port 0` means no plaintext listener, as in Redis. `tls_cluster`:
  // connections to cluster nodes (and discovery) use TLS.
  uint16_t tls_port = 0;
  bool tls_cluster = false;
  TlsSettings tls;
  // slotplane: seconds SIGTERM waits for clients to finish their in-flight requests (the drain)
  // before closing the rest.
  int shutdown_timeout = 5;

  // log-level, logfile, pidfile and daemonize, for RunDaemon (common/daemon.h).
  ProcessOptions Process() const;

  int EffectiveThreads() const;
  // proxy_id, or hostname:port when it is empty.
  std::string EffectiveProxyId() const;
  // Whether a plaintext listener is wanted: not with `port 0` beside a tls-port.
  bool PlainListener() const { return port != 0 || tls_port == 0; }
};

// Applies one option by its config-file name (`port`, `enable-cross-slot`, ...). Repeatable
// options (`bind`, `cluster`, `entry-point`, `user`) append. Errors name the option and show at
// most the start of the bad value (never a password); NotFound for unknown names.
absl::Status ApplyOption(ProxyOptions* options, const std::string& name,
                         const std::vector<std::string>& values);

// The current value of an option as PROXY CONFIG GET shows it; NotFound for unknown names.
// The `control-plane` value's addresses: "host:port" or a comma-separated list of them (several
// control-plane replicas), in the order written, duplicates dropped. At least one; an entry that
// is not a host:port fails naming the option. A host name is kept as a name: it may stand for
// several replicas (dataplane/control/control_endpoints.h resolves it at each reconnect).
absl::StatusOr<std::vector<NodeAddress>> ControlPlaneAddresses(std::string_view text);

absl::StatusOr<std::string> GetOption(const ProxyOptions& options, const std::string& name);

// Names of all options, in table order.
std::vector<std::string> OptionNames();

// Parses one `user` option: a name then Redis ACL rules (`on`, `off`, `>password`, `<password`,
// `#sha256`, `!sha256`, `nopass`, `resetpass`, `reset`, and the full-access rules `~*`,
// `allkeys`, `&*`, `allchannels`, `+@all`, `allcommands`). A new user starts `off` with no
// password, as in Redis.
absl::StatusOr<ClientUser> ParseUserRules(const std::vector<std::string>& values);

// Parses the command line (common/option_table.h's ReadCommandLine): `-c FILE` (read first,
// then the other flags override it), `-p PORT`, `--name value` for any option, `--name` alone
// for a yes/no option, and positional `host:port` entry points. `-h`/`--help` and `--version`
// return a Cancelled status whose message is the text to print.
absl::StatusOr<ProxyOptions> ParseCommandLine(int argc, const char* const* argv);

// Blanks the values of secret options (requirepass, auth, user, TLS passphrases) given on the
// command line, so the process list does not show them; returns their names (OptionTable).
std::vector<std::string> HideSecretArguments(int argc, char** argv);

std::string UsageText();

}  // namespace slotplane::dataplane
