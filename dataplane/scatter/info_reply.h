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
  std::string os;
};

// Whether INFO with these arguments (argv, "INFO" included) shows slotplane's "# Proxy" section:
// with no section, "default", "all", "everything" or "proxy".
bool InfoWantsProxySection(const std::vector<std::string_view>& args);

// Merges the masters' INFO texts (in master order) into the text one Redis would answer, so that
// clients that probe INFO see one standalone server:
//   Server       the first master's, with redis_mode:standalone and the proxy's process_id,
//                tcp_port, uptime and os;
//   Clients      connected_clients and maxclients of the proxy, other counts summed;
//   Memory       integers summed (the *_human fields recomputed), the rest the first master's;
//   Stats, CPU   numbers summed;
//   Replication  role:master with connected_slaves:0;
//   Cluster      cluster_enabled:0;
//   Keyspace     keys and expires summed per database, avg_ttl weighted by expires;
//   Commandstats, Errorstats   summed per entry (usec_per_call recomputed);
//   others       the first master's.
// The proxy section, when set, comes first.
std::string MergeInfo(const std::vector<std::string_view>& texts, const InfoOverrides& overrides);

}  // namespace slotplane::dataplane
