#include "dataplane/command/routing.h"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {
namespace {

struct RouteOverride {
  const char* name;  // lower case; "parent|sub" for a subcommand
  RouteClass route;
};

constexpr RouteClass kSlot = RouteClass::kSlot;
constexpr RouteClass kAnyNode = RouteClass::kAnyNode;
constexpr RouteClass kLocal = RouteClass::kLocal;
constexpr RouteClass kAllMasters = RouteClass::kAllMasters;
constexpr RouteClass kAllNodes = RouteClass::kAllNodes;
constexpr RouteClass kPrivate = RouteClass::kPrivate;
constexpr RouteClass kUnsupported = RouteClass::kUnsupported;

// Every command whose handling differs from the default (kSlot with key specs, kAnyNode
// without), plus a few that keep the default but need a note. Sorted by name (checked at compile
// time). A subcommand without its own entry takes its parent's entry when the parent has one.
constexpr RouteOverride kOverrides[] = {
    // Users live on each node; the proxy authenticates its own clients. Manage ACLs per node.
    {"acl", kUnsupported},
    {"asking", kLocal},  // the proxy follows ASK redirects itself; answered OK
    {"auth", kLocal},
    {"bgrewriteaof", kAllMasters},
    {"bgsave", kAllMasters},
    {"blmove", kPrivate},
    {"blmpop", kPrivate},
    {"blpop", kPrivate},
    {"brpop", kPrivate},
    {"brpoplpush", kPrivate},
    {"bzmpop", kPrivate},
    {"bzpopmax", kPrivate},
    {"bzpopmin", kPrivate},
    {"client", kLocal},  // about the client's connection to the proxy, with all subcommands
    // Cluster administration goes to the nodes directly. COUNTKEYSINSLOT and GETKEYSINSLOT name
    // a slot, not a key, so the key-based router cannot place them.
    {"cluster", kUnsupported},
    {"cluster|info", kLocal},  // answered from the proxy's own view of the cluster
    {"cluster|keyslot", kLocal},
    {"cluster|nodes", kLocal},
    {"cluster|shards", kLocal},
    {"cluster|slots", kLocal},
    // Answered from the proxy's command table; GETKEYSANDFLAGS and HELP by any master.
    {"command", kLocal},
    {"command|getkeysandflags", kAnyNode},
    {"command|help", kAnyNode},
    // CONFIG REWRITE persists what CONFIG SET changed, so it goes to the same nodes. A node whose
    // config file is read-only answers with an error, which the reply carries.
    {"config|resetstat", kAllNodes},
    {"config|rewrite", kAllNodes},
    {"config|set", kAllNodes},
    {"dbsize", kAllMasters},  // sum
    {"debug", kUnsupported},
    {"discard", kPrivate},
    {"echo", kLocal},
    {"exec", kPrivate},
    {"failover", kUnsupported},
    {"flushall", kAllMasters},
    {"flushdb", kAllMasters},
    // Libraries must be on every master so that FCALL works whatever the key's slot. Reads of the
    // library set go to any master: they all hold the same one.
    {"function|delete", kAllMasters},
    {"function|dump", kAnyNode},
    {"function|flush", kAllMasters},
    {"function|kill", kAllMasters},  // the running function may be on any master
    {"function|list", kAnyNode},
    {"function|load", kAllMasters},
    {"function|restore", kAllMasters},
    {"hello", kLocal},
    {"info", kAllMasters},
    {"keys", kAllMasters},
    {"lastsave", kAllMasters},  // the oldest, so that polling after BGSAVE waits for every master
    // The slow log and latency monitor are per node: read on every node (masters and replicas,
    // which serve replica reads) and merged, each row tagged with its node (scatter/fan_out.h).
    {"latency|doctor", kAllNodes},
    {"latency|graph", kAllNodes},
    {"latency|histogram", kAllNodes},
    {"latency|history", kAllNodes},
    {"latency|latest", kAllNodes},
    {"latency|reset", kAllNodes},
    {"memory|purge", kAllNodes},
    {"module", kUnsupported},
    {"monitor", kUnsupported},
    {"move", kUnsupported},  // a cluster has database 0 only
    {"multi", kPrivate},
    {"ping", kLocal},
    {"proxy", kLocal},  // slotplane's own command
    {"psubscribe", kPrivate},
    {"psync", kUnsupported},
    // To the home node, where slotplane keeps every channel and pattern subscription.
    {"publish", kPrivate},
    // CHANNELS, NUMSUB, NUMPAT on the home node; the shard-channel queries over the masters.
    {"pubsub", kPrivate},
    {"punsubscribe", kPrivate},
    {"quit", kLocal},
    {"randomkey", kAllMasters},  // first non-nil answer
    // The proxy chooses replica reads itself; both are answered OK.
    {"readonly", kLocal},
    {"readwrite", kLocal},
    {"replconf", kUnsupported},
    {"replicaof", kUnsupported},
    {"reset", kLocal},
    {"save", kAllMasters},
    {"scan", kAllMasters},  // one master after the other, the node index kept in the cursor
    {"script|debug", kUnsupported},  // the Lua debugger takes over a node connection
    {"script|exists", kAllMasters},  // 1 only where every master has the script
    {"script|flush", kAllMasters},
    {"script|kill", kAllMasters},  // the running script may be on any master
    {"script|load", kAllMasters},
    {"select", kLocal},  // database 0 only
    {"shutdown", kUnsupported},
    {"slaveof", kUnsupported},
    {"slowlog|get", kAllNodes},
    {"slowlog|len", kAllNodes},  // the sum
    {"slowlog|reset", kAllNodes},
    {"ssubscribe", kPrivate},
    {"subscribe", kPrivate},
    {"sunsubscribe", kPrivate},
    {"swapdb", kUnsupported},  // a cluster has database 0 only
    {"sync", kUnsupported},
    {"unsubscribe", kPrivate},
    {"unwatch", kPrivate},
    // Blocks its connection up to the timeout, and counts only the writes made on that
    // connection: needs private connections. Redis 7.0 does not flag it "blocking".
    {"wait", kPrivate},
    {"watch", kPrivate},
    // Blocking only with BLOCK: the session checks for it and moves the client to a private
    // connection; without BLOCK they are plain keyed reads.
    {"xread", kSlot},
    {"xreadgroup", kSlot},
};

// strcmp, usable in a static_assert.
constexpr int Compare(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

constexpr bool IsSorted(const RouteOverride* begin, const RouteOverride* end) {
  for (const RouteOverride* it = begin; it + 1 < end; ++it) {
    if (Compare(it->name, (it + 1)->name) >= 0) return false;
  }
  return true;
}
static_assert(IsSorted(std::begin(kOverrides), std::end(kOverrides)),
              "kOverrides must be sorted by name, without duplicates");

const RouteOverride* FindOverride(std::string_view name) {
  const RouteOverride* it = std::lower_bound(std::begin(kOverrides), std::end(kOverrides), name,
                                             [](const RouteOverride& entry, std::string_view key) {
                                               return std::string_view(entry.name) < key;
                                             });
  return it != std::end(kOverrides) && std::string_view(it->name) == name ? it : nullptr;
}

}  // namespace

const char* RouteClassName(RouteClass route) {
  switch (route) {
    case RouteClass::kSlot:
      return "slot";
    case RouteClass::kAnyNode:
      return "any-node";
    case RouteClass::kLocal:
      return "local";
    case RouteClass::kAllMasters:
      return "all-masters";
    case RouteClass::kAllNodes:
      return "all-nodes";
    case RouteClass::kPrivate:
      return "private";
    case RouteClass::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

std::vector<std::string_view> RouteOverrideNames() {
  std::vector<std::string_view> names;
  for (const RouteOverride& entry : kOverrides) names.emplace_back(entry.name);
  return names;
}

RouteClass RouteClassFor(const char* lower_name, bool has_keys) {
  const std::string_view name(lower_name);
  if (const RouteOverride* entry = FindOverride(name)) return entry->route;
  const size_t bar = name.find('|');
  if (bar != std::string_view::npos) {
    if (const RouteOverride* parent = FindOverride(name.substr(0, bar))) return parent->route;
  }
  return has_keys ? RouteClass::kSlot : RouteClass::kAnyNode;
}

}  // namespace slotplane::dataplane
