#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cluster_view.h"
#include "common/logging.h"
#include "dataplane/core/client_user.h"

namespace slotplane::dataplane {

// Every setting of slotplane-proxy. Names and meanings follow redis-cluster-proxy's proxy.conf
// (see docs/configuration.md); slotplane's own additions are marked.
struct ProxyOptions {
  uint16_t port = 7777;
  std::vector<std::string> bind;  // empty: all interfaces (0.0.0.0)
  int threads = 0;                // 0: one per core
  int maxclients = 10000;
  int tcpkeepalive = 300;  // seconds; 0 disables
  int tcp_backlog = 511;
  bool daemonize = false;
  std::string pidfile;
  std::string logfile;
  LogLevel log_level = LogLevel::kInfo;
  std::vector<NodeAddress> entry_points;  // `cluster` / `entry-point`, repeatable
  std::string auth;                       // password the proxy sends to the cluster nodes
  std::string auth_user;                  // ACL user for `auth` (Redis 6+)
  bool enable_cross_slot = false;
  std::string read_policy = "master";  // slotplane: master|prefer-master|replica|prefer-replica|any
  int connections_pool_size = 10;      // accepted for compatibility; private connections (later)
  int connections_pool_min_size = 10;
  int connections_pool_spawn_every = 50;
  int connections_pool_spawn_rate = 2;
  std::string disable_multiplexing = "auto";
  bool dump_queries = false;  // accepted for compatibility; no effect
  bool dump_buffer = false;
  bool dump_queues = false;
  // slotplane additions.
  int64_t proto_max_bulk_len = 512LL * 1024 * 1024;
  int64_t max_multibulk_len = 1024 * 1024;
  int64_t client_query_buffer_limit = 1024LL * 1024 * 1024;
  int topology_refresh_interval_ms = 5000;  // periodic CLUSTER SHARDS poll
  int backend_connect_timeout_ms = 1000;
  int max_redirects = 5;  // MOVED/ASK hops per request before giving up
  int tryagain_retries = 5;
  std::string metrics_bind = "127.0.0.1";  // Prometheus /metrics address
  int metrics_port = 0;                    // 0: no metrics endpoint
  // slotplane: client authentication. `requirepass` is the password of the `default` user (as in
  // Redis); `user` lines (a subset of Redis's ACL rules) add users. A control plane's users, when
  // it has any, replace both.
  std::string requirepass;
  std::vector<ClientUser> users;
  // slotplane: the control plane. Empty `control_plane`: standalone.
  std::string control_plane;             // host:port of slotplane-control
  std::string control_plane_token_file;  // bearer token for the admin API (PROXY CONFIG SET, ...)
  std::string control_plane_cache;       // last good snapshot on disk; empty: no cache
  std::string control_plane_tls_ca;      // PEM files; a CA turns TLS on
  std::string control_plane_tls_cert;    // client certificate (mTLS), with the key
  std::string control_plane_tls_key;
  std::string proxy_id;  // empty: hostname:port

  int EffectiveThreads() const;
  // proxy_id, or hostname:port when it is empty.
  std::string EffectiveProxyId() const;
};

// Applies one option by its config-file name (`port`, `enable-cross-slot`, ...). Repeatable
// options (`bind`, `cluster`, `entry-point`) append. Errors name the option and the bad value.
absl::Status ApplyOption(ProxyOptions* options, const std::string& name,
                         const std::vector<std::string>& values);

// The current value of an option as PROXY CONFIG GET shows it; NotFound for unknown names.
absl::StatusOr<std::string> GetOption(const ProxyOptions& options, const std::string& name);

// Names of all options, in table order.
std::vector<std::string> OptionNames();

// Parses one `user` option: a name then Redis ACL rules (`on`, `off`, `>password`, `<password`,
// `#sha256`, `!sha256`, `nopass`, `resetpass`, `reset`, and the full-access rules `~*`,
// `allkeys`, `&*`, `allchannels`, `+@all`, `allcommands`). A new user starts `off` with no
// password, as in Redis.
absl::StatusOr<ClientUser> ParseUserRules(const std::vector<std::string>& values);

// Parses the command line: `-c FILE` (read first, then the other flags override it),
// `-p PORT`, `--name value` for any option, `--name` alone for a yes/no option, and positional
// `host:port` entry points. `-h`/`--help` and `--version` return a Cancelled status whose message
// is the text to print.
absl::StatusOr<ProxyOptions> ParseCommandLine(int argc, const char* const* argv);

std::string UsageText();

}  // namespace slotplane::dataplane
