// slotplanectl status, proxies, topology, refresh, wait.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controlplane/ctl/commands.h"
#include "controlplane/ctl/json.h"
#include "controlplane/ctl/table.h"
#include "controlplane/ctl/topology_table.h"

namespace slotplane::ctl {
namespace {

constexpr absl::Duration kDefaultWait = absl::Seconds(30);
// The wait call's deadline leaves the server time to answer with the laggards.
constexpr absl::Duration kWaitSlack = absl::Seconds(5);

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

void Print(const std::string& text) { std::fputs(text.c_str(), stdout); }

// Rows "title  item" for the first 10 items, then "and N more".
void AddListRows(Table& table, const std::string& title, const std::vector<std::string>& items) {
  constexpr size_t kMaxItems = 10;
  for (size_t i = 0; i < items.size() && i < kMaxItems; ++i) {
    table.AddRow({i == 0 ? title : "", items[i]});
  }
  if (items.size() > kMaxItems) {
    table.AddRow({"", absl::StrCat("and ", items.size() - kMaxItems, " more")});
  }
}

std::string NodeJson(const v1::Node& node) {
  return JsonObject()
      .Add("id", node.id())
      .Add("host", node.host())
      .Add("port", static_cast<int64_t>(node.port()))
      .Add("health", HealthName(node.health()))
      .str();
}

std::string ProxyJson(const v1::ProxyInfo& p) {
  const v1::ProxyStats& s = p.stats();
  return JsonObject()
      .Add("proxy_id", p.proxy_id())
      .Add("hostname", p.hostname())
      .Add("listen_address", p.listen_address())
      .Add("build_version", p.build_version())
      .Add("connected_since_unix_ms", p.connected_since_unix_ms())
      .Add("acked_version", p.acked_version())
      .Add("last_nack_version", p.last_nack_version())
      .Add("last_nack_error", p.last_nack_error())
      .AddRaw("stats", JsonObject()
                           .Add("connected_clients", s.connected_clients())
                           .Add("commands_processed", s.commands_processed())
                           .Add("moved_redirects", s.moved_redirects())
                           .Add("ask_redirects", s.ask_redirects())
                           .Add("backend_failures", s.backend_failures())
                           .str())
      .str();
}

// store, this replica, and every replica of an etcd store.
void AddControlPlaneRows(Table& table, const v1::GetControlPlaneResponse& plane) {
  table.AddRow({"store", plane.store()});
  if (plane.replica_id().empty()) return;
  table.AddRow(
      {"replica", absl::StrCat(plane.replica_id(), plane.leader() ? " (leader)" : " (follower)")});
  std::vector<std::string> replicas;
  for (const v1::ReplicaStatus& r : plane.replicas()) {
    replicas.push_back(
        absl::StrCat(r.replica_id(), " ", r.address(), " leader ", r.leader() ? "yes" : "no"));
  }
  if (!plane.replicas_error().empty()) replicas.push_back("unknown: " + plane.replicas_error());
  AddListRows(table, "replicas", replicas);
}

}  // namespace

int RunStatus(const CommandEnv& env) {
  if (env.args.words.size() != 1) return UsageError("usage: slotplanectl status");
  v1::GetConfigResponse config;
  v1::GetTopologyResponse topology;
  v1::ListProxiesResponse proxies;
  grpc::Status s = env.client.stub().GetConfig(env.client.Context(env.timeout).get(), {}, &config);
  if (s.ok()) {
    s = env.client.stub().GetTopology(env.client.Context(env.timeout).get(), {}, &topology);
  }
  if (s.ok()) {
    s = env.client.stub().ListProxies(env.client.Context(env.timeout).get(), {}, &proxies);
  }
  if (!s.ok()) return ReportError(s, "status", env.client.address());
  // A control plane older than GetControlPlane answers UNIMPLEMENTED: no store or replica rows.
  v1::GetControlPlaneResponse plane;
  const bool has_plane =
      env.client.stub().GetControlPlane(env.client.Context(env.timeout).get(), {}, &plane).ok();
  int in_sync = 0, nacked = 0;
  JsonArray rejections;
  std::vector<std::string> reasons;  // "proxy-id rejected version N: error", for the table
  std::vector<std::string> behind;   // "proxy-id on version N", no NACK: not applied yet
  for (const v1::ProxyInfo& p : proxies.proxies()) {
    in_sync += p.acked_version() >= proxies.current_version() ? 1 : 0;
    if (p.last_nack_version() <= p.acked_version()) {
      if (p.acked_version() < proxies.current_version()) {
        behind.push_back(absl::StrCat(p.proxy_id(), " on version ", p.acked_version(),
                                      " (has not acked ", proxies.current_version(), " yet)"));
      }
      continue;
    }
    ++nacked;
    rejections.AddRaw(JsonObject()
                          .Add("proxy_id", p.proxy_id())
                          .Add("version", p.last_nack_version())
                          .Add("error", p.last_nack_error())
                          .str());
    reasons.push_back(absl::StrCat(p.proxy_id(), " rejected version ", p.last_nack_version(), ": ",
                                   p.last_nack_error()));
  }
  // Converged: every proxy runs the current version (none connected counts as converged).
  const bool converged = in_sync == proxies.proxies_size();
  const int covered = CoveredSlots(topology.topology());
  if (env.args.json) {
    JsonArray replicas;
    for (const v1::ReplicaStatus& r : plane.replicas()) {
      replicas.AddRaw(JsonObject()
                          .Add("replica_id", r.replica_id())
                          .Add("address", r.address())
                          .Add("leader", r.leader())
                          .str());
    }
    Print(JsonObject()
              .Add("address", env.client.address())
              .Add("version", config.version())
              .Add("store", plane.store())
              .Add("replica_id", plane.replica_id())
              .Add("leader", plane.leader())
              .AddRaw("replicas", replicas.str())
              .AddRaw("topology", JsonObject()
                                      .Add("version", topology.version())
                                      .Add("shards", topology.topology().shards_size())
                                      .Add("slots_covered", covered)
                                      .Add("refreshed_unix_ms", topology.refreshed_unix_ms())
                                      .Add("last_error", topology.last_error())
                                      .str())
              .AddRaw("proxies", JsonObject()
                                     .Add("connected", proxies.proxies_size())
                                     .Add("on_current_version", in_sync)
                                     .Add("nacked", nacked)
                                     .Add("converged", converged)
                                     .AddRaw("rejections", rejections.str())
                                     .str())
              .str() +
          "\n");
    return kExitOk;
  }
  Table table({"control plane", env.client.address()});
  table.AddRow({"version", absl::StrCat(config.version())});
  if (has_plane) AddControlPlaneRows(table, plane);
  table.AddRow({"topology", absl::StrCat(topology.topology().shards_size(), " shards, ", covered,
                                         "/16384 slots covered, refreshed ",
                                         Ago(topology.refreshed_unix_ms(), NowMs()))});
  if (!topology.last_error().empty()) table.AddRow({"last error", topology.last_error()});
  table.AddRow({"proxies", absl::StrCat(proxies.proxies_size(), " connected, ", in_sync,
                                        " on version ", proxies.current_version(), ", ", nacked,
                                        " rejected a newer version")});
  table.AddRow({"converged", converged ? "yes" : "no"});
  AddListRows(table, "rejected", reasons);
  AddListRows(table, "behind", behind);
  Print(table.str());
  return kExitOk;
}

int RunProxies(const CommandEnv& env) {
  if (env.args.words.size() != 1) return UsageError("usage: slotplanectl proxies");
  v1::ListProxiesResponse response;
  grpc::Status s =
      env.client.stub().ListProxies(env.client.Context(env.timeout).get(), {}, &response);
  if (!s.ok()) return ReportError(s, "proxies", env.client.address());
  if (env.args.json) {
    JsonArray list;
    for (const v1::ProxyInfo& p : response.proxies()) list.AddRaw(ProxyJson(p));
    Print(JsonObject()
              .Add("current_version", response.current_version())
              .AddRaw("proxies", list.str())
              .str() +
          "\n");
    return kExitOk;
  }
  const int64_t now = NowMs();
  Table table({"PROXY", "LISTEN", "HOST", "BUILD", "CONNECTED", "ACKED", "LAST NACK", "CLIENTS"});
  for (const v1::ProxyInfo& p : response.proxies()) {
    const std::string nack = p.last_nack_version() == 0
                                 ? "-"
                                 : absl::StrCat(p.last_nack_version(), ": ", p.last_nack_error());
    table.AddRow({p.proxy_id(), p.listen_address(), p.hostname(), p.build_version(),
                  Ago(p.connected_since_unix_ms(), now), absl::StrCat(p.acked_version()), nack,
                  absl::StrCat(p.stats().connected_clients())});
  }
  Print(absl::StrCat("current version ", response.current_version(), ", ", response.proxies_size(),
                     " proxies\n"));
  if (response.proxies_size() > 0) Print(table.str());
  return kExitOk;
}

int RunTopology(const CommandEnv& env) {
  if (env.args.words.size() != 1) return UsageError("usage: slotplanectl topology");
  v1::GetTopologyResponse response;
  grpc::Status s =
      env.client.stub().GetTopology(env.client.Context(env.timeout).get(), {}, &response);
  if (!s.ok()) return ReportError(s, "topology", env.client.address());
  const v1::Topology& topology = response.topology();
  if (env.args.json) {
    JsonArray shards;
    for (const v1::Shard* shard : ShardsBySlot(topology)) {
      JsonArray ranges, replicas;
      for (const v1::SlotRange& r : shard->slots()) {
        ranges.AddRaw(absl::StrCat("[", r.first(), ",", r.last(), "]"));
      }
      for (const v1::Node& replica : shard->replicas()) replicas.AddRaw(NodeJson(replica));
      shards.AddRaw(JsonObject()
                        .AddRaw("slots", ranges.str())
                        .AddRaw("master", NodeJson(shard->master()))
                        .AddRaw("replicas", replicas.str())
                        .str());
    }
    Print(JsonObject()
              .Add("version", response.version())
              .Add("epoch", topology.epoch())
              .Add("refreshed_unix_ms", response.refreshed_unix_ms())
              .Add("last_error", response.last_error())
              .Add("slots_covered", CoveredSlots(topology))
              .AddRaw("shards", shards.str())
              .str() +
          "\n");
    return kExitOk;
  }
  Print(absl::StrCat("version ", response.version(), ", ", topology.shards_size(), " shards, ",
                     CoveredSlots(topology), "/16384 slots covered, refreshed ",
                     Ago(response.refreshed_unix_ms(), NowMs()), "\n"));
  if (!response.last_error().empty()) Print("last error: " + response.last_error() + "\n");
  if (topology.shards_size() > 0) Print(TopologyTable(topology));
  return kExitOk;
}

int RunRefresh(const CommandEnv& env) {
  if (env.args.words.size() != 1) return UsageError("usage: slotplanectl refresh");
  v1::RefreshTopologyResponse response;
  grpc::Status s =
      env.client.stub().RefreshTopology(env.client.Context(env.timeout).get(), {}, &response);
  if (!s.ok()) return ReportError(s, "refresh", env.client.address());
  if (env.args.json) {
    Print(JsonObject().Add("version", response.version()).Add("changed", response.changed()).str() +
          "\n");
  } else if (response.changed()) {
    Print(absl::StrCat("topology changed: version ", response.version(), "\n"));
  } else {
    Print(absl::StrCat("topology unchanged (version ", response.version(), ")\n"));
  }
  return kExitOk;
}

int RunWait(const CommandEnv& env) {
  uint64_t version = 0;
  if (env.args.words.size() != 2 || !absl::SimpleAtoi(env.args.words[1], &version) ||
      version == 0) {
    return UsageError("usage: slotplanectl wait VERSION [--timeout S] (VERSION > 0)");
  }
  const absl::Duration timeout = env.args.timeout.value_or(kDefaultWait);
  v1::WaitForVersionRequest request;
  request.set_version(version);
  request.set_timeout_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(timeout)));
  v1::WaitForVersionResponse response;
  grpc::Status s = env.client.stub().WaitForVersion(env.client.Context(timeout + kWaitSlack).get(),
                                                    request, &response);
  if (!s.ok()) return ReportError(s, "wait", env.client.address());
  if (env.args.json) {
    Print(JsonObject().Add("version", response.version()).Add("proxies", response.proxies()).str() +
          "\n");
  } else {
    Print(absl::StrCat("version ", response.version(), " acked by all ", response.proxies(),
                       " connected proxies\n"));
  }
  return kExitOk;
}

}  // namespace slotplane::ctl
