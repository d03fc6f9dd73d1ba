#include "common/topology_discovery.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/node_connection.h"
#include "common/node_connection_pool.h"

// Internally absl::string_view throughout: Debian's Abseil is built with its own string_view
// type, which StrCat, StrSplit and SimpleAtoi need.
namespace slotplane {
namespace {

using ReplyPtr = NodeConnection::ReplyPtr;

// ---------------------------------------------------------------------------------------------
// Reply accessors. RESP2 has no map type, so CLUSTER SHARDS sends maps as flat arrays of
// alternating names and values.

std::optional<absl::string_view> StringOf(const redisReply* reply) {
  if (reply == nullptr) return std::nullopt;
  if (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS) return std::nullopt;
  return absl::string_view(reply->str, reply->len);
}

std::optional<long long> IntegerOf(const redisReply* reply) {
  if (reply == nullptr) return std::nullopt;
  if (reply->type == REDIS_REPLY_INTEGER) return reply->integer;
  long long value = 0;
  std::optional<absl::string_view> text = StringOf(reply);
  if (text && absl::SimpleAtoi(*text, &value)) return value;
  return std::nullopt;
}

bool IsArray(const redisReply* reply) {
  return reply != nullptr && reply->type == REDIS_REPLY_ARRAY;
}

// The value of `name` in a flattened map, or nullptr when absent or `map` is not one.
const redisReply* FindField(const redisReply* map, absl::string_view name) {
  if (!IsArray(map)) return nullptr;
  for (size_t i = 0; i + 1 < map->elements; i += 2) {
    std::optional<absl::string_view> key = StringOf(map->element[i]);
    if (key && *key == name) return map->element[i + 1];
  }
  return nullptr;
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

absl::Status WithContext(const absl::Status& status, absl::string_view context) {
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

absl::StatusOr<uint16_t> SlotOf(const redisReply* reply) {
  std::optional<long long> slot = IntegerOf(reply);
  if (!slot) return Malformed("slot is not an integer");
  if (*slot < 0 || *slot >= kSlotCount) {
    return Malformed(absl::StrCat("slot ", *slot, " is outside 0-", kSlotCount - 1));
  }
  return static_cast<uint16_t>(*slot);
}

absl::StatusOr<SlotRange> RangeOf(const redisReply* first, const redisReply* last) {
  absl::StatusOr<uint16_t> from = SlotOf(first);
  if (!from.ok()) return from.status();
  absl::StatusOr<uint16_t> to = SlotOf(last);
  if (!to.ok()) return to.status();
  if (*from > *to) return Malformed(absl::StrCat("slot range ", *from, "-", *to, " is inverted"));
  return SlotRange{*from, *to};
}

absl::StatusOr<uint16_t> PortOf(const redisReply* reply) {
  std::optional<long long> port = IntegerOf(reply);
  if (!port) return Malformed("port is not an integer");
  if (*port < 1 || *port > 65535) return Malformed(absl::StrCat("port ", *port, " is invalid"));
  return static_cast<uint16_t>(*port);
}

// Servers that do not know their own address report it as "" (Redis < 7) or "?" (Redis 7
// unknown endpoint); both come back as an empty host for the caller to fill in.
std::string HostOf(absl::string_view reported) {
  return reported == "?" ? std::string() : std::string(reported);
}

// ---------------------------------------------------------------------------------------------
// CLUSTER SHARDS

// Redis 7.0 sends "fail"; its documentation says "failed". A value this code does not know is
// taken as failed so that nothing is routed to a node in an unknown state.
NodeHealth HealthOf(absl::string_view text) {
  if (text == "online") return NodeHealth::kOnline;
  if (text == "loading") return NodeHealth::kLoading;
  if (text != "fail" && text != "failed") {
    SP_LOG(kDebug) << "CLUSTER SHARDS: unknown node health \"" << text << "\", taken as failed";
  }
  return NodeHealth::kFailed;
}

absl::StatusOr<NodeRole> RoleOf(const redisReply* reply) {
  std::optional<absl::string_view> role = StringOf(reply);
  if (!role) return Malformed("missing \"role\"");
  if (*role == "master") return NodeRole::kMaster;
  if (*role == "replica" || *role == "slave") return NodeRole::kReplica;
  return Malformed(absl::StrCat("unknown role \"", *role, "\""));
}

absl::StatusOr<ClusterNode> NodeFromShardsEntry(const redisReply* entry, bool tls) {
  if (!IsArray(entry)) return Malformed("node is not an array");
  ClusterNode node;
  std::optional<absl::string_view> id = StringOf(FindField(entry, "id"));
  if (!id) return Malformed("missing \"id\"");
  node.id = std::string(*id);
  const redisReply* port = FindField(entry, tls ? "tls-port" : "port");
  if (port == nullptr) {
    return Malformed(absl::StrCat("node ", node.id,
                                  tls ? " has no \"tls-port\" (is tls-port set on the nodes?)"
                                      : " has no plaintext \"port\" (TLS-only cluster: set "
                                        "tls-cluster yes on the proxy)"));
  }
  absl::StatusOr<uint16_t> port_number = PortOf(port);
  if (!port_number.ok()) return WithContext(port_number.status(), absl::StrCat("node ", node.id));
  node.address.port = *port_number;
  std::optional<absl::string_view> ip = StringOf(FindField(entry, "ip"));
  if (!ip) ip = StringOf(FindField(entry, "endpoint"));
  node.address.host = HostOf(ip.value_or(""));
  absl::StatusOr<NodeRole> role = RoleOf(FindField(entry, "role"));
  if (!role.ok()) return WithContext(role.status(), absl::StrCat("node ", node.id));
  node.role = *role;
  std::optional<absl::string_view> health = StringOf(FindField(entry, "health"));
  node.health = health ? HealthOf(*health) : NodeHealth::kOnline;
  return node;
}

// "slots" is a flat list of inclusive range bounds: [first1, last1, first2, last2, ...].
absl::StatusOr<std::vector<SlotRange>> RangesFromShardsEntry(const redisReply* slots) {
  if (!IsArray(slots)) return Malformed("missing \"slots\"");
  if (slots->elements % 2 != 0) return Malformed("\"slots\" has an odd number of bounds");
  std::vector<SlotRange> ranges;
  for (size_t i = 0; i < slots->elements; i += 2) {
    absl::StatusOr<SlotRange> range = RangeOf(slots->element[i], slots->element[i + 1]);
    if (!range.ok()) return range.status();
    ranges.push_back(*range);
  }
  return ranges;
}

int HealthRank(NodeHealth health) {
  switch (health) {
    case NodeHealth::kOnline:
      return 0;
    case NodeHealth::kLoading:
      return 1;
    case NodeHealth::kFailed:
      return 2;
  }
  return 2;
}

// Index of the shard's master, or -1 if none. After a failover Redis 7 may still list the failed
// ex-master, with role "master", next to the promoted one: the healthiest master wins, the first
// listed on a tie.
int ChooseMaster(const std::vector<ClusterNode>& nodes) {
  int best = -1;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].role != NodeRole::kMaster) continue;
    if (best < 0 || HealthRank(nodes[i].health) < HealthRank(nodes[best].health)) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

// Builds a shard from its nodes. Other "master" nodes than the chosen one are stale ex-masters
// and are left out: they serve nothing and rejoin as replicas when they come back.
Shard AssembleShard(std::vector<SlotRange> ranges, std::vector<ClusterNode> nodes, int master) {
  Shard shard;
  shard.slots = std::move(ranges);
  shard.master = std::move(nodes[master]);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (static_cast<int>(i) == master) continue;
    if (nodes[i].role == NodeRole::kReplica) {
      shard.replicas.push_back(std::move(nodes[i]));
    } else {
      SP_LOG(kDebug) << "CLUSTER SHARDS: leaving out stale master " << nodes[i].id << " ("
                     << nodes[i].address.ToString() << ")";
    }
  }
  return shard;
}

// The shard described by one CLUSTER SHARDS entry, or nullopt when it is to be left out: a shard
// without slots whose master is missing or failed serves nothing (Redis 7.0 lists a failed
// ex-master this way after a failover; CLUSTER SLOTS does not list it at all).
absl::StatusOr<std::optional<Shard>> ShardFromShardsEntry(const redisReply* entry, bool tls) {
  if (!IsArray(entry)) return Malformed("shard is not an array");
  absl::StatusOr<std::vector<SlotRange>> ranges = RangesFromShardsEntry(FindField(entry, "slots"));
  if (!ranges.ok()) return ranges.status();
  const redisReply* node_list = FindField(entry, "nodes");
  if (!IsArray(node_list)) return Malformed("missing \"nodes\"");
  std::vector<ClusterNode> nodes;
  for (size_t i = 0; i < node_list->elements; ++i) {
    absl::StatusOr<ClusterNode> node = NodeFromShardsEntry(node_list->element[i], tls);
    if (!node.ok()) return WithContext(node.status(), absl::StrCat("node ", i));
    nodes.push_back(*std::move(node));
  }
  const int master = ChooseMaster(nodes);
  if (ranges->empty() && (master < 0 || nodes[master].health == NodeHealth::kFailed)) {
    return std::optional<Shard>();
  }
  if (master < 0) {
    return Malformed(
        absl::StrCat("shard owns slots from ", ranges->front().first, " but lists no master"));
  }
  return std::optional<Shard>(AssembleShard(*std::move(ranges), std::move(nodes), master));
}

// ---------------------------------------------------------------------------------------------
// CLUSTER SLOTS

// A node of a CLUSTER SLOTS entry: [host, port, id (Redis >= 4), metadata (Redis >= 7)].
absl::StatusOr<ClusterNode> NodeFromSlotsEntry(const redisReply* entry, NodeRole role) {
  if (!IsArray(entry) || entry->elements < 2) return Malformed("node is not [host, port, ...]");
  std::optional<absl::string_view> host = StringOf(entry->element[0]);
  if (!host) return Malformed("node host is not a string");
  absl::StatusOr<uint16_t> port = PortOf(entry->element[1]);
  if (!port.ok()) return port.status();
  ClusterNode node;
  node.address = NodeAddress{HostOf(*host), *port};
  if (entry->elements >= 3) node.id = std::string(StringOf(entry->element[2]).value_or(""));
  node.role = role;
  return node;
}

// Old servers omit node ids; the address identifies the node then.
std::string NodeKey(const ClusterNode& node) {
  return node.id.empty() ? node.address.ToString() : node.id;
}

void AddReplica(Shard& shard, ClusterNode replica) {
  for (const ClusterNode& known : shard.replicas) {
    if (NodeKey(known) == NodeKey(replica)) return;
  }
  shard.replicas.push_back(std::move(replica));
}

// Adds one [first, last, master, replica...] entry to `shards`, merging it into the shard of the
// same master, if any.
absl::Status AddSlotsEntry(const redisReply* entry, std::vector<Shard>& shards) {
  if (!IsArray(entry) || entry->elements < 3) {
    return Malformed("entry is not [first, last, master, ...]");
  }
  absl::StatusOr<SlotRange> range = RangeOf(entry->element[0], entry->element[1]);
  if (!range.ok()) return range.status();
  absl::StatusOr<ClusterNode> master = NodeFromSlotsEntry(entry->element[2], NodeRole::kMaster);
  if (!master.ok()) return WithContext(master.status(), "master");
  Shard* shard = nullptr;
  for (Shard& known : shards) {
    if (NodeKey(known.master) == NodeKey(*master)) shard = &known;
  }
  if (shard == nullptr) {
    shards.emplace_back();
    shard = &shards.back();
    shard->master = *std::move(master);
  }
  shard->slots.push_back(*range);
  for (size_t i = 3; i < entry->elements; ++i) {
    absl::StatusOr<ClusterNode> replica = NodeFromSlotsEntry(entry->element[i], NodeRole::kReplica);
    if (!replica.ok()) return WithContext(replica.status(), absl::StrCat("replica ", i - 3));
    AddReplica(*shard, *std::move(replica));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Talking to a seed

absl::StatusOr<std::unique_ptr<NodeConnection>> Connect(const NodeAddress& seed,
                                                        const DiscoveryOptions& options) {
  return NodeConnection::Connect(seed, options.connect_timeout, options.io_timeout,
                                 options.tls.get());
}

// The command's name for error messages: "CLUSTER SHARDS", never AUTH's credentials.
std::string CommandLabel(const std::vector<absl::string_view>& args) {
  if (args.size() < 2 || args[0] == "AUTH") return std::string(args[0]);
  return absl::StrCat(args[0], " ", args[1]);
}

// Sends one command and waits for its reply. A transport failure is an error; an error reply is
// returned as such for the caller to judge.
absl::StatusOr<ReplyPtr> SendCommand(NodeConnection* context,
                                     const std::vector<absl::string_view>& args) {
  return context->Command(args, CommandLabel(args));
}

absl::Status ServerError(absl::string_view command, const redisReply& reply) {
  return absl::FailedPreconditionError(
      absl::StrCat(command, ": ", absl::string_view(reply.str, reply.len)));
}

absl::Status Authenticate(NodeConnection* context, const DiscoveryOptions& options) {
  if (options.auth_password.empty()) return absl::OkStatus();
  std::vector<absl::string_view> args = {"AUTH"};
  if (!options.auth_user.empty()) args.push_back(options.auth_user);
  args.push_back(options.auth_password);
  absl::StatusOr<ReplyPtr> reply = SendCommand(context, args);
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ERROR) return ServerError("AUTH", **reply);
  return absl::OkStatus();
}

// Redis 7: "ERR unknown subcommand 'SHARDS'..."; Redis 4-6: "ERR Unknown subcommand or wrong
// number of arguments..."; Redis 3: "ERR Wrong CLUSTER subcommand or number of arguments".
bool IsUnknownSubcommand(const redisReply& reply) {
  const std::string message = absl::AsciiStrToLower(absl::string_view(reply.str, reply.len));
  return absl::StrContains(message, "unknown subcommand") ||
         absl::StrContains(message, "wrong cluster subcommand");
}

absl::StatusOr<std::vector<Shard>> QueryShards(NodeConnection* context, const NodeAddress& seed,
                                               bool tls) {
  absl::StatusOr<ReplyPtr> reply = SendCommand(context, {"CLUSTER", "SHARDS"});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_ERROR) return ShardsFromClusterShardsReply(reply->get(), tls);
  if (!IsUnknownSubcommand(**reply)) return ServerError("CLUSTER SHARDS", **reply);
  SP_LOG(kDebug) << "seed " << seed.ToString()
                 << " does not know CLUSTER SHARDS; falling back to CLUSTER SLOTS";
  reply = SendCommand(context, {"CLUSTER", "SLOTS"});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ERROR) return ServerError("CLUSTER SLOTS", **reply);
  return ShardsFromClusterSlotsReply(reply->get());
}

// cluster_current_epoch from CLUSTER INFO; 0 when the server does not report it.
absl::StatusOr<uint64_t> QueryEpoch(NodeConnection* context) {
  absl::StatusOr<ReplyPtr> reply = SendCommand(context, {"CLUSTER", "INFO"});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ERROR) return ServerError("CLUSTER INFO", **reply);
  std::optional<absl::string_view> info = StringOf(reply->get());
  if (!info) return Malformed("CLUSTER INFO: reply is not a string");
  constexpr absl::string_view kField = "cluster_current_epoch:";
  for (absl::string_view line : absl::StrSplit(*info, "\r\n")) {
    uint64_t epoch = 0;
    if (absl::ConsumePrefix(&line, kField) && absl::SimpleAtoi(line, &epoch)) return epoch;
  }
  return 0;
}

// A server that does not know its own address reports it empty; it is the seed we asked.
void FillUnknownHosts(std::vector<Shard>& shards, const std::string& seed_host) {
  for (Shard& shard : shards) {
    if (shard.master.address.host.empty()) shard.master.address.host = seed_host;
    for (ClusterNode& replica : shard.replicas) {
      if (replica.address.host.empty()) replica.address.host = seed_host;
    }
  }
}

// The topology as `seed` reports it on `context`, an authenticated connection.
absl::StatusOr<ClusterViewPtr> QueryView(NodeConnection* context, const NodeAddress& seed,
                                         const DiscoveryOptions& options) {
  absl::StatusOr<std::vector<Shard>> shards = QueryShards(context, seed, options.tls != nullptr);
  if (!shards.ok()) return shards.status();
  absl::StatusOr<uint64_t> epoch = QueryEpoch(context);
  if (!epoch.ok()) return epoch.status();
  FillUnknownHosts(*shards, seed.host);
  absl::StatusOr<ClusterViewPtr> view = ClusterView::Create(*std::move(shards), *epoch);
  if (!view.ok()) return WithContext(view.status(), "inconsistent slot map");
  if ((*view)->CoveredSlotCount() == 0) {
    return absl::FailedPreconditionError("no slot is assigned to any node");
  }
  return view;
}

absl::StatusOr<std::unique_ptr<NodeConnection>> ConnectAndAuthenticate(
    const NodeAddress& seed, const DiscoveryOptions& options) {
  absl::StatusOr<std::unique_ptr<NodeConnection>> context = Connect(seed, options);
  if (!context.ok()) return context.status();
  absl::Status auth = Authenticate(context->get(), options);
  if (!auth.ok()) return auth;
  return context;
}

absl::StatusOr<ClusterViewPtr> AskSeed(const NodeAddress& seed, const DiscoveryOptions& options) {
  NodeConnectionPool* const pool = options.connections;
  if (pool == nullptr) {
    absl::StatusOr<std::unique_ptr<NodeConnection>> context = ConnectAndAuthenticate(seed, options);
    if (!context.ok()) return context.status();
    return QueryView(context->get(), seed, options);
  }
  const std::string credentials =
      NodeConnectionPool::CredentialsKey(options.auth_user, options.auth_password);
  if (std::unique_ptr<NodeConnection> kept = pool->Take(seed, credentials); kept != nullptr) {
    absl::StatusOr<ClusterViewPtr> view = QueryView(kept.get(), seed, options);
    if (view.ok()) {
      pool->Put(seed, credentials, std::move(kept));
      return view;
    }
    // The node may have restarted or closed an idle connection: the kept one is closed, and the
    // seed is asked once more on a new one.
    SP_LOG(kDebug) << "topology discovery: reconnecting to " << seed.ToString() << ": "
                   << view.status().message();
  }
  absl::StatusOr<std::unique_ptr<NodeConnection>> context = ConnectAndAuthenticate(seed, options);
  if (!context.ok()) return context.status();
  absl::StatusOr<ClusterViewPtr> view = QueryView(context->get(), seed, options);
  if (view.ok()) pool->Put(seed, credentials, *std::move(context));
  return view;
}

}  // namespace

absl::StatusOr<std::vector<Shard>> ShardsFromClusterShardsReply(const redisReply* reply, bool tls) {
  constexpr absl::string_view kCommand = "CLUSTER SHARDS reply";
  if (!IsArray(reply)) return Malformed(absl::StrCat(kCommand, ": not an array"));
  std::vector<Shard> shards;
  for (size_t i = 0; i < reply->elements; ++i) {
    absl::StatusOr<std::optional<Shard>> shard = ShardFromShardsEntry(reply->element[i], tls);
    if (!shard.ok()) return WithContext(shard.status(), absl::StrCat(kCommand, ": shard ", i));
    if (*shard) shards.push_back(**std::move(shard));
  }
  return shards;
}

absl::StatusOr<std::vector<Shard>> ShardsFromClusterSlotsReply(const redisReply* reply) {
  constexpr absl::string_view kCommand = "CLUSTER SLOTS reply";
  if (!IsArray(reply)) return Malformed(absl::StrCat(kCommand, ": not an array"));
  std::vector<Shard> shards;
  for (size_t i = 0; i < reply->elements; ++i) {
    absl::Status status = AddSlotsEntry(reply->element[i], shards);
    if (!status.ok()) return WithContext(status, absl::StrCat(kCommand, ": entry ", i));
  }
  return shards;
}

absl::StatusOr<ClusterViewPtr> DiscoverTopology(const DiscoveryOptions& options) {
  if (options.seeds.empty()) {
    return absl::InvalidArgumentError("no seed nodes to discover the cluster topology from");
  }
  std::vector<std::string> failures;
  for (const NodeAddress& seed : options.seeds) {
    absl::StatusOr<ClusterViewPtr> view = AskSeed(seed, options);
    if (view.ok()) return view;
    SP_LOG(kDebug) << "topology discovery: skipping seed " << seed.ToString() << ": "
                   << view.status().message();
    failures.push_back(absl::StrCat(seed.ToString(), " (", view.status().message(), ")"));
  }
  return absl::UnavailableError(
      absl::StrCat("no seed answered a usable cluster topology: ", absl::StrJoin(failures, "; ")));
}

}  // namespace slotplane
