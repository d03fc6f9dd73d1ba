#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cluster_view.h"
#include "common/tls_config.h"

struct redisReply;

namespace slotplane {

class NodeConnectionPool;

struct DiscoveryOptions {
  // Nodes to ask, in order; the first one that answers a usable topology wins. Unreachable,
  // failing or loading nodes are skipped (and logged at debug level), never fatal while another
  // node answers.
  std::vector<NodeAddress> seeds;
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration io_timeout = absl::Seconds(1);
  // Credentials sent with AUTH before asking (empty password: no AUTH; empty user: AUTH pass).
  std::string auth_user;
  std::string auth_password;
  // A TLS client context: the seeds are asked over TLS (their certificates verified against its
  // CA) and the nodes' TLS ports (CLUSTER SHARDS's "tls-port") make the topology. Null: TCP.
  SslContextPtr tls = nullptr;
  // Connections kept between calls (the control plane's poller): a seed is asked on its kept
  // connection when there is one, reconnecting once when that fails (the node restarted, the
  // connection broke); a connection that answered is kept, one that failed is closed. Null: a
  // new connection per seed asked, closed at the end of the call (the proxy's refresher).
  NodeConnectionPool* connections = nullptr;
};

// Asks the seeds for the slot map with CLUSTER SHARDS, falling back to CLUSTER SLOTS on servers
// that do not know it (Redis < 7). Blocking; call it off the request path. Fails only when no
// seed gave a usable answer; the error then names every seed and why it failed.
absl::StatusOr<ClusterViewPtr> DiscoverTopology(const DiscoveryOptions& options);

// Reply converters, exposed for unit tests. They do not own or free `reply`. A node whose address
// the server does not know (reported as "" or "?") gets an empty host; DiscoverTopology replaces
// it with the host of the seed that answered. `tls`: the nodes' addresses use their "tls-port"
// (CLUSTER SLOTS answers with the port of the connection's kind by itself).
absl::StatusOr<std::vector<Shard>> ShardsFromClusterShardsReply(const redisReply* reply,
                                                                bool tls = false);
absl::StatusOr<std::vector<Shard>> ShardsFromClusterSlotsReply(const redisReply* reply);

}  // namespace slotplane
