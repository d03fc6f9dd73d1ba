#include "dataplane/session/proxy_command.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "dataplane/errors.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/topology_refresher.h"
#include "dataplane/session/client_session.h"
#include "dataplane/worker.h"

namespace slotplane::dataplane {
namespace {

constexpr const char* kHelpLines[] = {
    "PROXY <subcommand> [<arg> ...]. Subcommands are:",
    "PING",
    "    Return PONG.",
    "INFO [<section>]",
    "    Proxy information; sections: proxy, clients, cluster, stats, errorstats.",
    "CONFIG GET <option>",
    "    The value of a configuration option.",
    "CLIENT ID|THREAD",
    "    This client's id, or the index of the worker thread serving it.",
    "CLUSTER INFO|UPDATE",
    "    The topology this proxy routes by; UPDATE refreshes it from the cluster now.",
    "SHUTDOWN [ASAP]",
    "    Stop the proxy.",
    "HELP",
    "    Print this help.",
};

void AppendProxySection(Worker* worker, std::string* out) {
  const ProxyContext& ctx = worker->context();
  struct utsname name;
  uname(&name);
  int64_t uptime = static_cast<int64_t>(time(nullptr)) - ctx.start_time_unix;
  absl::StrAppend(out, "# Proxy\r\n", "proxy_version:", SLOTPLANE_VERSION, "\r\n",
                  "os:", name.sysname, " ", name.release, " ", name.machine, "\r\n",
                  "multiplexing_api:epoll\r\n", "process_id:", getpid(), "\r\n",
                  "threads:", ctx.workers.size(), "\r\n", "tcp_port:", ctx.options.port, "\r\n",
                  "uptime_in_seconds:", uptime, "\r\n", "uptime_in_days:", uptime / 86400, "\r\n");
}

void AppendClientsSection(Worker* worker, std::string* out) {
  const ProxyContext& ctx = worker->context();
  absl::StrAppend(out, "# Clients\r\n", "connected_clients:", ctx.clients.load(), "\r\n",
                  "max_clients:", ctx.options.maxclients, "\r\n");
}

void AppendClusterSection(Worker* worker, std::string* out) {
  const ProxyContext& ctx = worker->context();
  std::vector<std::string> entry_points;
  for (const auto& a : ctx.options.entry_points) entry_points.push_back(a.ToString());
  absl::StrAppend(out, "# Cluster\r\n", "entry_points:", absl::StrJoin(entry_points, ","), "\r\n");
  if (ctx.refresher == nullptr) return;
  ClusterViewPtr view = ctx.refresher->current();
  absl::StrAppend(out, "topology_version:", ctx.refresher->version(), "\r\n",
                  "topology_refreshes:", ctx.refresher->refreshes(), "\r\n",
                  "topology_last_error:", ctx.refresher->last_error(), "\r\n");
  if (view == nullptr) return;
  int replicas = 0;
  for (const Shard& shard : view->shards()) replicas += static_cast<int>(shard.replicas.size());
  absl::StrAppend(out, "cluster_shards:", view->shards().size(), "\r\n",
                  "cluster_replicas:", replicas, "\r\n",
                  "cluster_slots_covered:", view->CoveredSlotCount(), "\r\n",
                  "cluster_current_epoch:", view->epoch(), "\r\n");
  for (size_t i = 0; i < view->shards().size(); ++i) {
    const Shard& shard = view->shards()[i];
    absl::StrAppend(out, "shard", i, ":master=", shard.master.address.ToString(),
                    ",replicas=", shard.replicas.size(), ",slot_ranges=", shard.slots.size(),
                    "\r\n");
  }
}

void AppendStatsSection(Worker* worker, std::string* out) {
  const ProxyContext& ctx = worker->context();
  absl::StrAppend(out, "# Stats\r\n");
#define SLOTPLANE_SUM_COUNTER(name, help)                               \
  {                                                                     \
    uint64_t total = 0;                                                 \
    for (const Worker* w : ctx.workers) total += w->stats().name.Get(); \
    absl::StrAppend(out, #name ":", total, "\r\n");                     \
  }
  SLOTPLANE_WORKER_COUNTERS(SLOTPLANE_SUM_COUNTER)
#undef SLOTPLANE_SUM_COUNTER
  int64_t backends = 0;
  for (const Worker* w : ctx.workers) backends += w->stats().backend_connections.load();
  absl::StrAppend(out, "backend_connections:", backends, "\r\n");
}

void AppendErrorStatsSection(Worker* worker, std::string* out) {
  const ProxyContext& ctx = worker->context();
  absl::StrAppend(out, "# Errorstats\r\n");
  for (size_t kind = 0; kind < static_cast<size_t>(ErrorKind::kCount); ++kind) {
    uint64_t total = 0;
    for (const Worker* w : ctx.workers) total += w->stats().errors[kind].Get();
    absl::StrAppend(out, "errorstat_", ErrorKindName(static_cast<ErrorKind>(kind)),
                    ":count=", total, "\r\n");
  }
}

void ReplyBulk(ClientSession* client, std::string_view text) {
  std::string reply;
  resp::AppendBulk(&reply, text);
  client->Reply(reply);
}

void ReplyHelp(ClientSession* client) {
  std::string reply;
  resp::AppendArrayHeader(&reply, std::size(kHelpLines));
  for (const char* line : kHelpLines) resp::AppendSimple(&reply, line);
  client->Reply(reply);
}

void ProxyConfig(Worker* worker, ClientSession* client, const std::vector<std::string_view>& args) {
  if (args.size() == 4 && EqualsIgnoreCase(args[2], "GET")) {
    auto value = GetOption(worker->options(), std::string(args[3]));
    if (!value.ok()) {
      client->Reply(errors::Generic(StdView(value.status().message())));
      return;
    }
    std::string reply;
    resp::AppendArrayHeader(&reply, 2);
    resp::AppendBulk(&reply, absl::AsciiStrToLower(AbslView(args[3])));
    resp::AppendBulk(&reply, *value);
    client->Reply(reply);
    return;
  }
  client->Reply(
      errors::Generic("PROXY CONFIG supports GET <option>; SET comes with the control "
                      "plane"));
}

}  // namespace

std::string ProxyInfoText(Worker* worker, std::string_view section) {
  std::string s = absl::AsciiStrToLower(AbslView(section));
  bool all = s.empty() || s == "all" || s == "default";
  std::string out;
  auto add = [&](const char* name, void (*append)(Worker*, std::string*)) {
    if (!all && s != name) return;
    if (!out.empty()) out += "\r\n";
    append(worker, &out);
  };
  add("proxy", AppendProxySection);
  add("clients", AppendClientsSection);
  add("cluster", AppendClusterSection);
  add("stats", AppendStatsSection);
  add("errorstats", AppendErrorStatsSection);
  return out;
}

void ExecuteProxyCommand(Worker* worker, ClientSession* client,
                         const std::vector<std::string_view>& args) {
  std::string sub = absl::AsciiStrToLower(AbslView(args[1]));
  if (sub == "ping") {
    client->Reply(resp::kPong);
  } else if (sub == "help") {
    ReplyHelp(client);
  } else if (sub == "info") {
    ReplyBulk(client, ProxyInfoText(worker, args.size() > 2 ? args[2] : ""));
  } else if (sub == "config") {
    ProxyConfig(worker, client, args);
  } else if (sub == "client" && args.size() == 3 && EqualsIgnoreCase(args[2], "id")) {
    std::string reply;
    resp::AppendInteger(&reply, static_cast<int64_t>(client->id()));
    client->Reply(reply);
  } else if (sub == "client" && args.size() == 3 && EqualsIgnoreCase(args[2], "thread")) {
    std::string reply;
    resp::AppendInteger(&reply, worker->index());
    client->Reply(reply);
  } else if (sub == "cluster" && args.size() == 3 && EqualsIgnoreCase(args[2], "update")) {
    if (worker->context().refresher != nullptr) worker->context().refresher->RequestRefresh();
    client->Reply(resp::kOk);
  } else if (sub == "cluster" && (args.size() == 2 || EqualsIgnoreCase(args[2], "info"))) {
    ReplyBulk(client, ProxyInfoText(worker, "cluster"));
  } else if (sub == "shutdown") {
    client->Reply(resp::kOk);
    if (worker->context().request_shutdown) worker->context().request_shutdown();
  } else {
    client->Reply(errors::Generic(
        absl::StrCat("Unknown PROXY subcommand '", AbslView(args[1]), "'. Try PROXY HELP.")));
  }
}

}  // namespace slotplane::dataplane
