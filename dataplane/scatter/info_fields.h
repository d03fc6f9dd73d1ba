#pragma once

#include <string_view>

// How each field of the masters' INFO texts becomes the one field of the merged INFO reply
// (info_reply.h): the decision for every field Redis 7.0 prints, in one table
// (info_fields.cc), documented with its reasons in docs/info-merge.md.
namespace slotplane::dataplane {

enum class InfoMerge {
  kFirst,           // the first master's value (identity, configuration, one replication stream)
  kSum,             // summed over masters (integers, or decimals kept at the first's precision)
  kMax,             // the largest (flags "is any master doing X", peaks, durations)
  kMin,             // the smallest (oldest timestamps, "is every master doing X")
  kSumOrUnlimited,  // summed, but 0 (no limit) when any master has 0 (maxmemory)
  kWorstStatus,     // "ok" unless a master says otherwise; then the first other value
  kLowestVersion,   // the lowest dotted version (redis_version: what every master supports)
  kDerived,         // recomputed from the merged fields (*_human, ratios, percentages)
  kProxy,           // the proxy's own value (process_id, connected_clients, ...)
  kFixed,           // what a standalone server says (redis_mode:standalone, role:master, ...)
  kSumPerEntry,     // Commandstats, Errorstats: each entry's integer subfields summed
  kMaxPerEntry,     // Latencystats: each percentile the largest (an upper bound of the merge)
  kKeyspace,        // Keyspace: keys and expires summed per database, avg_ttl weighted
};

// The rule of `field` in section `section` (lower-case section name, as "memory"). A field the
// table does not list (a newer Redis's) follows its section's default: Clients, Memory, Stats,
// CPU sum; Persistence, Server, Replication, Modules, Cluster and unknown sections take the
// first master's; Commandstats/Errorstats/Latencystats/Keyspace merge per entry.
InfoMerge InfoMergeOf(std::string_view section, std::string_view field);

// Whether the table lists `field` of `section` explicitly (tests check every Redis 7.0 field).
bool InfoFieldListed(std::string_view section, std::string_view field);

}  // namespace slotplane::dataplane
