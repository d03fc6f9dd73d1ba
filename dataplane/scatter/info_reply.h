#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

// What the proxy says about itself in the merged INFO reply.
struct InfoOverrides {
  std::string proxy_section;  // "# Proxy\r\n..." to put first, or empty
  int64_t connected_clients = 0;
  int64_t maxclients = 0;
  int64_t process_id = 0;
  int64_t tcp_port = 0;
  int64_t uptime_seconds = 0;
  int64_t total_connections_received = 0;  // the proxy's clients
  int64_t rejected_connections = 0;
  std::string os;
};

// Whether INFO with these arguments (argv, "INFO" included) shows slotplane's "# Proxy" section:
// with no section, "default", "all", "everything" or "proxy".
bool InfoWantsProxySection(const std::vector<std::string_view>& args);

// Merges the masters' INFO texts (in master order) into the text one Redis would answer, so that
// clients that probe INFO see one standalone server. Each field follows its rule in
// info_fields.h (sum, max, min, the first master's, recomputed, the proxy's own or fixed;
// docs/info-merge.md lists every field with its reason); in short:
//   Server       the first master's with the lowest redis_version, redis_mode:standalone and the
//                proxy's process_id, tcp_port, uptime and os;
//   Clients      connected_clients and maxclients of the proxy, cluster_connections:0, other
//                counts summed, the recent max buffers the largest;
//   Memory       bytes summed, *_human, ratios and percentages recomputed, script and function
//                counts the largest (SCRIPT LOAD goes to every master);
//   Persistence  counts summed, "in progress" flags and durations the largest, rdb_last_save_time
//                the oldest, statuses "ok" only if every master's is;
//   Stats, CPU   summed, but the proxy's connection counts and a few maxima;
//   Replication  role:master with connected_slaves:0, the rest the first master's;
//   Cluster      cluster_enabled:0;
//   Keyspace     keys and expires summed per database, avg_ttl weighted by expires;
//   Commandstats, Errorstats   summed per entry (usec_per_call recomputed);
//   Latencystats               each percentile the largest over masters (an upper bound);
//   others       the first master's.
// The proxy section, when set, comes first.
std::string MergeInfo(const std::vector<std::string_view>& texts, const InfoOverrides& overrides);

// The lowest redis_version in the INFO texts (the version every master supports, which merged
// INFO and HELLO report); empty when none has one.
std::string LowestRedisVersion(const std::vector<std::string_view>& texts);

}  // namespace slotplane::dataplane
