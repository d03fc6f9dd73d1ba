// PROXY INFO: the INFO-style text of the proxy's own state, section by section.

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/strings.h"
#include "dataplane/control/config_applier.h"
#include "dataplane/control/control_plane.h"
#include "dataplane/control/topology_refresher.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/proxy_command.h"
#include "dataplane/net/buffer_pool.h"
#include "dataplane/net/event_loop.h"

namespace slotplane::dataplane {
namespace {

void AppendProxySection(WorkerContext* worker, std::string* out) {
  const ProxyContext& ctx = worker->proxy();
  struct utsname name;
  uname(&name);
  int64_t uptime = static_cast<int64_t>(time(nullptr)) - ctx.start_time_unix;
  absl::StrAppend(out, "# Proxy\r\n", "proxy_version:", SLOTPLANE_VERSION, "\r\n",
                  "os:", name.sysname, " ", name.release, " ", name.machine, "\r\n",
                  "multiplexing_api:", IoEngineName(worker->loop().engine()), "\r\n",
                  "io_engine:", IoEngineName(worker->loop().engine()), "\r\n",
                  "process_id:", getpid(), "\r\n", "threads:", ctx.workers.size(), "\r\n",
                  "tcp_port:", ctx.options.port, "\r\n", "uptime_in_seconds:", uptime, "\r\n",
                  "uptime_in_days:", uptime / 86400, "\r\n");
}

void AppendClientsSection(WorkerContext* worker, std::string* out) {
  const ProxyContext& ctx = worker->proxy();
  absl::StrAppend(out, "# Clients\r\n", "connected_clients:", ctx.clients.load(), "\r\n",
                  "max_clients:", worker->policy().maxclients, "\r\n");
}

void AppendClusterSection(WorkerContext* worker, std::string* out) {
  const ProxyContext& ctx = worker->proxy();
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

void AppendStatsSection(WorkerContext* worker, std::string* out) {
  const ProxyContext& ctx = worker->proxy();
  absl::StrAppend(out, "# Stats\r\n");
#define SLOTPLANE_SUM_COUNTER(name, help)                                      \
  {                                                                            \
    uint64_t total = 0;                                                        \
    for (const WorkerContext* w : ctx.workers) total += w->stats().name.Get(); \
    absl::StrAppend(out, #name ":", total, "\r\n");                            \
  }
  SLOTPLANE_WORKER_COUNTERS(SLOTPLANE_SUM_COUNTER)
#undef SLOTPLANE_SUM_COUNTER
  int64_t backends = 0;
  for (const WorkerContext* w : ctx.workers) backends += w->stats().backend_connections.load();
  absl::StrAppend(out, "backend_connections:", backends, "\r\n");
  BufferPool::Usage buffers;
  for (const WorkerContext* w : ctx.workers) buffers.Add(w->buffers());
  absl::StrAppend(out, "client_buffers_lent:", buffers.buffers, "\r\n",
                  "client_buffer_bytes:", buffers.bytes, "\r\n",
                  "client_buffer_pool_free_bytes:", buffers.free_bytes, "\r\n");
  // io_uring's receive rings (zeros under epoll): net/uring_poller.h.
  RecvRingStats ring;
  for (const WorkerContext* w : ctx.workers) ring.Add(w->loop().recv_stats());
  absl::StrAppend(out, "io_uring_recv_ring_bytes:", ring.ring_bytes, "\r\n",
                  "io_uring_recv_held_bytes:", ring.held_bytes, "\r\n",
                  "io_uring_recv_bytes:", ring.received_bytes, "\r\n",
                  "io_uring_recv_completions:", ring.completions, "\r\n",
                  "io_uring_recv_no_buffers:", ring.no_buffers, "\r\n",
                  "io_uring_recv_fallback_reads:", ring.fallback_reads, "\r\n");
}

void AppendErrorStatsSection(WorkerContext* worker, std::string* out) {
  const ProxyContext& ctx = worker->proxy();
  absl::StrAppend(out, "# Errorstats\r\n");
  for (size_t kind = 0; kind < static_cast<size_t>(ErrorKind::kCount); ++kind) {
    uint64_t total = 0;
    for (const WorkerContext* w : ctx.workers) total += w->stats().errors[kind].Get();
    absl::StrAppend(out, "errorstat_", ErrorKindName(static_cast<ErrorKind>(kind)),
                    ":count=", total, "\r\n");
  }
}

// Error texts may come from the network: keep each on one INFO line.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

void AppendFleetSection(WorkerContext* worker, std::string* out) {
  const ProxyContext& ctx = worker->proxy();
  absl::StrAppend(out, "# Fleet\r\n",
                  "mode:", ctx.control == nullptr ? "standalone" : "control-plane", "\r\n",
                  "policy_version:", worker->policy().version, "\r\n");
  if (ctx.applier != nullptr) {
    absl::StrAppend(out, "topology_source:", TopologySourceName(ctx.applier->view_source()),
                    "\r\n");
  }
  if (ctx.control == nullptr) return;
  ControlStatus s = ctx.control->Status();
  absl::StrAppend(out, "control_plane:", s.address, "\r\n", "proxy_id:", OneLine(s.proxy_id),
                  "\r\n", "stream_state:", StreamStateName(s.state), "\r\n",
                  "connected_since_unix_ms:", s.connected_since_unix_ms, "\r\n",
                  "acked_version:", s.acked_version, "\r\n",
                  "last_nack_version:", s.last_nack_version, "\r\n",
                  "last_nack_error:", OneLine(s.last_nack_error), "\r\n",
                  "last_stream_error:", OneLine(s.last_stream_error), "\r\n");
  // With several control-plane replicas: the one in use and the moves to another one.
  absl::StrAppend(out, "control_plane_replica:", s.replica, "\r\n",
                  "control_plane_switches:", s.replica_switches, "\r\n",
                  "snapshots_unchanged:", s.snapshots_unchanged, "\r\n");
  absl::StrAppend(out, "snapshots_applied:", s.snapshots_applied, "\r\n",
                  "snapshots_nacked:", s.snapshots_nacked, "\r\n",
                  "stream_reconnects:", s.reconnects, "\r\n", "moved_reports:", s.moved_reports,
                  "\r\n", "cache_file:", s.cache_file, "\r\n", "cached_version:", s.cached_version,
                  "\r\n");
}

}  // namespace

std::string ProxyInfoText(WorkerContext* worker, std::string_view section) {
  std::string s = absl::AsciiStrToLower(AbslView(section));
  bool all = s.empty() || s == "all" || s == "default" || s == "everything";
  std::string out;
  auto add = [&](const char* name, void (*append)(WorkerContext*, std::string*)) {
    if (!all && s != name) return;
    if (!out.empty()) out += "\r\n";
    append(worker, &out);
  };
  add("proxy", AppendProxySection);
  add("clients", AppendClientsSection);
  add("cluster", AppendClusterSection);
  add("stats", AppendStatsSection);
  add("errorstats", AppendErrorStatsSection);
  add("fleet", AppendFleetSection);
  return out;
}

}  // namespace slotplane::dataplane
