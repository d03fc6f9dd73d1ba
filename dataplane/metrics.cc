#include "dataplane/metrics.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/process_metrics.h"
#include "common/slot.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/command/command_class.h"
#include "dataplane/command/command_table.h"
#include "dataplane/control/config_applier.h"
#include "dataplane/control/control_plane.h"
#include "dataplane/control/topology_refresher.h"
#include "dataplane/core/latency_histogram.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/buffer_pool.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/client_session.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace slotplane::dataplane {
namespace {

// slotplane_proxy_connected_clients_by_user: at most this many user labels, `default` included,
// plus `other`.
constexpr size_t kMaxUserLabels = 100;
constexpr std::string_view kDefaultUserLabel = "default";
constexpr std::string_view kOtherUserLabel = "other";

prometheus::MetricFamily Family(const std::string& name, const std::string& help,
                                prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

prometheus::ClientMetric CounterValue(double value,
                                      std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  return metric;
}

prometheus::ClientMetric GaugeValue(double value) {
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  return metric;
}

void AddGauge(std::vector<prometheus::MetricFamily>* out, const std::string& name,
              const std::string& help, double value) {
  auto family = Family(name, help, prometheus::MetricType::Gauge);
  family.metric.push_back(GaugeValue(value));
  out->push_back(std::move(family));
}

void AddCounter(std::vector<prometheus::MetricFamily>* out, const std::string& name,
                const std::string& help, double value) {
  auto family = Family(name, help, prometheus::MetricType::Counter);
  family.metric.push_back(CounterValue(value));
  out->push_back(std::move(family));
}

// The control-plane stream, when there is one. The state is one gauge per state (1 for the current
// one), so the label set is fixed.
void CollectControl(const ControlPlane& control, std::vector<prometheus::MetricFamily>* out) {
  ControlStatus status = control.Status();
  auto state = Family("slotplane_proxy_control_stream_state",
                      "State of the watch stream to the control plane (1 for the current state)",
                      prometheus::MetricType::Gauge);
  for (StreamState s :
       {StreamState::kConnecting, StreamState::kConnected, StreamState::kDisconnected}) {
    prometheus::ClientMetric metric = GaugeValue(s == status.state ? 1 : 0);
    metric.label = {{"state", StreamStateName(s)}};
    state.metric.push_back(std::move(metric));
  }
  out->push_back(std::move(state));
  AddGauge(out, "slotplane_proxy_control_acked_version",
           "Last snapshot version acknowledged to the control plane",
           static_cast<double>(status.acked_version));
  AddGauge(out, "slotplane_proxy_control_last_nack_version",
           "Last snapshot version this proxy rejected (0: none)",
           static_cast<double>(status.last_nack_version));
  AddCounter(out, "slotplane_proxy_control_snapshots_applied_total",
             "Snapshots from the control plane applied and acknowledged",
             static_cast<double>(status.snapshots_applied));
  AddCounter(out, "slotplane_proxy_control_snapshots_nacked_total",
             "Snapshots from the control plane rejected (NACK)",
             static_cast<double>(status.snapshots_nacked));
  AddCounter(out, "slotplane_proxy_control_reconnects_total",
             "Watch streams opened again after the previous one ended",
             static_cast<double>(status.reconnects));
  AddCounter(out, "slotplane_proxy_control_snapshots_unchanged_total",
             "Snapshots of the version already in force, acknowledged without applying them again",
             static_cast<double>(status.snapshots_unchanged));
  AddCounter(out, "slotplane_proxy_control_plane_switches_total",
             "Watch streams that delivered a snapshot on another control-plane replica than the "
             "stream before",
             static_cast<double>(status.replica_switches));
  AddCounter(out, "slotplane_proxy_control_moved_reports_total",
             "MOVED redirects reported to the control plane",
             static_cast<double>(status.moved_reports));
}

// slotplane_proxy_command_duration_seconds{class}: the workers' histograms summed. Buckets are
// kept per bucket; Prometheus wants them cumulative.
void CollectLatency(const std::vector<WorkerContext*>& workers,
                    std::vector<prometheus::MetricFamily>* out) {
  auto family = Family("slotplane_proxy_command_duration_seconds",
                       "Time from a command's dispatch to its reply being ready, by command class",
                       prometheus::MetricType::Histogram);
  for (size_t c = 0; c < kCommandClassCount; ++c) {
    const auto command_class = static_cast<CommandClass>(c);
    std::array<uint64_t, LatencyHistogram::kBuckets> buckets{};
    uint64_t sum_ns = 0;
    for (const WorkerContext* w : workers) {
      const LatencyHistogram& h = w->command_stats().latency(command_class);
      for (size_t b = 0; b < buckets.size(); ++b) buckets[b] += h.bucket(b);
      sum_ns += h.sum_ns();
    }
    prometheus::ClientMetric metric;
    metric.label = {{"class", CommandClassName(command_class)}};
    uint64_t cumulative = 0;
    for (size_t b = 0; b < buckets.size(); ++b) {
      cumulative += buckets[b];
      prometheus::ClientMetric::Bucket bucket;
      bucket.cumulative_count = cumulative;
      bucket.upper_bound = b < kLatencyBucketBounds.size()
                               ? kLatencyBucketBounds[b]
                               : std::numeric_limits<double>::infinity();
      metric.histogram.bucket.push_back(bucket);
    }
    metric.histogram.sample_count = cumulative;
    metric.histogram.sample_sum = static_cast<double>(sum_ns) / 1e9;
    family.metric.push_back(std::move(metric));
  }
  out->push_back(std::move(family));
}

// slotplane_proxy_commands_total{command,outcome}: top-level commands of the table that were
// called at least once (the table bounds the label set; unknown commands never get here, they
// are counted in slotplane_proxy_errors_total{kind="unknown_command"}).
void CollectCommands(const std::vector<WorkerContext*>& workers,
                     std::vector<prometheus::MetricFamily>* out) {
  auto family = Family("slotplane_proxy_commands_total",
                       "Commands answered, by command (the command table's names) and outcome "
                       "(ok, or error for an error reply)",
                       prometheus::MetricType::Counter);
  const CommandTable& table = CommandTable::Get();
  for (size_t i = 0; i < table.size(); ++i) {
    uint64_t ok = 0;
    uint64_t errors = 0;
    for (const WorkerContext* w : workers) {
      ok += w->command_stats().ok(i);
      errors += w->command_stats().errors(i);
    }
    if (ok + errors == 0) continue;
    const std::string name = table.At(i).name;
    family.metric.push_back(
        CounterValue(static_cast<double>(ok), {{"command", name}, {"outcome", "ok"}}));
    family.metric.push_back(
        CounterValue(static_cast<double>(errors), {{"command", name}, {"outcome", "error"}}));
  }
  out->push_back(std::move(family));
}

// One cluster node as the workers' shared connections see it.
struct NodeState {
  int connected = 0;  // shared connections up (one per worker, two where RESP3 clients came)
  int down = 0;       // workers whose connection is in reconnect backoff
  size_t in_flight = 0;
  BackendNodeStats counts;  // the workers' counters, summed

  void Add(const NodeState& other) {
    connected += other.connected;
    down += other.down;
    in_flight += other.in_flight;
    counts.error_replies += other.counts.error_replies;
    counts.connection_errors += other.counts.connection_errors;
    counts.moved += other.counts.moved;
    counts.ask += other.counts.ask;
    counts.reconnects += other.counts.reconnects;
  }
};

// What the workers describe of themselves at scrape time: their backend connections by node
// ("host:port", bounded by the topology) and their clients by user name ("" before AUTH; bounded
// by the policy's users, since only a successful AUTH sets a name).
struct WorkerSnapshot {
  std::map<std::string, NodeState> nodes;
  std::map<std::string, int64_t> clients_by_user;

  void Add(const WorkerSnapshot& other) {
    for (const auto& [address, state] : other.nodes) nodes[address].Add(state);
    for (const auto& [user, count] : other.clients_by_user) clients_by_user[user] += count;
  }
};

// One worker's snapshot, on its thread.
WorkerSnapshot SnapshotWorker(WorkerContext* w) {
  WorkerSnapshot mine;
  const auto add = [&mine](const BackendConn& conn) {
    NodeState one;
    one.connected = conn.connected() ? 1 : 0;
    one.down = conn.down() ? 1 : 0;
    one.in_flight = conn.in_flight();
    one.counts = conn.node_stats();
    mine.nodes[conn.address_text()].Add(one);
  };
  w->router().ForEachBackend([&](const BackendConn& conn) {
    add(conn);
    // The node's RESP3 connection (RESP3 clients), once opened: counted with the node.
    if (const BackendConn* resp3 = conn.resp3_sibling()) add(*resp3);
  });
  w->clients().ForEach([&](const ClientSession& client) { ++mine.clients_by_user[client.user()]; });
  return mine;
}

// How long a scrape waits for a worker to describe its backend connections and clients.
constexpr absl::Duration kWorkerSnapshotTimeout = absl::Seconds(1);

// Backend connections and clients belong to their worker's thread, so each worker describes its
// own on that thread (a task posted to its loop; the request path is untouched) and the scrape
// waits for the answers, up to kWorkerSnapshotTimeout (a worker that is stopping does not answer
// and is left out).
WorkerSnapshot SnapshotWorkers(const std::vector<WorkerContext*>& workers) {
  struct Shared {
    absl::Mutex mu;
    WorkerSnapshot sum;   // guarded by mu
    size_t answered = 0;  // guarded by mu
  };
  auto shared = std::make_shared<Shared>();
  for (WorkerContext* w : workers) {
    w->loop().Post([w, shared] {
      WorkerSnapshot mine = SnapshotWorker(w);
      absl::MutexLock lock(&shared->mu);
      shared->sum.Add(mine);
      ++shared->answered;
    });
  }
  struct Done {
    const Shared* shared;
    size_t expected;
  } done{shared.get(), workers.size()};
  absl::MutexLock lock(&shared->mu);
  shared->mu.AwaitWithTimeout(
      absl::Condition(
          +[](Done* d) { return d->shared->answered >= d->expected; }, &done),
      kWorkerSnapshotTimeout);
  return shared->sum;
}

prometheus::ClientMetric NodeMetric(prometheus::ClientMetric metric, const std::string& address,
                                    const char* kind = nullptr) {
  metric.label = {{"node", address}};
  if (kind != nullptr) metric.label.push_back({"kind", kind});
  return metric;
}

// slotplane_proxy_backend_node_*{node}: per cluster node, summed over the workers.
void CollectBackendNodes(const std::map<std::string, NodeState>& nodes,
                         std::vector<prometheus::MetricFamily>* out) {
  auto connected =
      Family("slotplane_proxy_backend_node_connections",
             "Shared connections to the cluster node that are up (per worker: one, two with "
             "RESP3 clients)",
             prometheus::MetricType::Gauge);
  auto down = Family("slotplane_proxy_backend_node_down",
                     "Workers whose shared connection to the cluster node is in reconnect backoff "
                     "(the node is unreachable from them)",
                     prometheus::MetricType::Gauge);
  auto in_flight = Family("slotplane_proxy_backend_node_in_flight",
                          "Requests written or queued to the cluster node, awaiting its reply",
                          prometheus::MetricType::Gauge);
  auto errors = Family("slotplane_proxy_backend_node_errors_total",
                       "Errors from the cluster node: kind reply (error replies, MOVED and ASK "
                       "excepted) or connection (connects failed and connections lost)",
                       prometheus::MetricType::Counter);
  auto redirects = Family("slotplane_proxy_backend_node_redirects_total",
                          "Redirects received from the cluster node, by kind (moved, ask)",
                          prometheus::MetricType::Counter);
  auto reconnects = Family("slotplane_proxy_backend_node_reconnects_total",
                           "Connections to the cluster node opened again after a loss or a "
                           "failed attempt",
                           prometheus::MetricType::Counter);
  for (const auto& [address, node] : nodes) {
    for (auto [family, value] : {std::pair{&connected, static_cast<double>(node.connected)},
                                 std::pair{&down, static_cast<double>(node.down)},
                                 std::pair{&in_flight, static_cast<double>(node.in_flight)}}) {
      family->metric.push_back(NodeMetric(GaugeValue(value), address));
    }
    const BackendNodeStats& c = node.counts;
    errors.metric.push_back(
        NodeMetric(CounterValue(static_cast<double>(c.error_replies)), address, "reply"));
    errors.metric.push_back(
        NodeMetric(CounterValue(static_cast<double>(c.connection_errors)), address, "connection"));
    redirects.metric.push_back(
        NodeMetric(CounterValue(static_cast<double>(c.moved)), address, "moved"));
    redirects.metric.push_back(
        NodeMetric(CounterValue(static_cast<double>(c.ask)), address, "ask"));
    reconnects.metric.push_back(
        NodeMetric(CounterValue(static_cast<double>(c.reconnects)), address));
  }
  for (auto* family : {&connected, &down, &in_flight, &errors, &redirects, &reconnects}) {
    out->push_back(std::move(*family));
  }
}

// slotplane_proxy_connected_clients_by_user{user}: client connections by the user they
// authenticated as. Bounded: `default` (no AUTH, or AUTH as default), the first
// kMaxUserLabels - 1 other users of the policy by name, and `other` for the rest (and for a
// name the policy no longer has). A client's name is only ever one the policy knew at AUTH.
void CollectClientsByUser(const std::map<std::string, int64_t>& by_user, const ProxyPolicy* policy,
                          std::vector<prometheus::MetricFamily>* out) {
  std::vector<std::string_view> names;
  if (policy != nullptr) {
    for (const ClientUser& user : policy->users) {
      if (user.name != kDefaultUserLabel) names.push_back(user.name);
    }
  }
  std::sort(names.begin(), names.end());
  if (names.size() > kMaxUserLabels - 1) names.resize(kMaxUserLabels - 1);
  std::map<std::string_view, int64_t> labelled = {{kDefaultUserLabel, 0}};
  for (const auto& [user, count] : by_user) {
    std::string_view label = kOtherUserLabel;
    if (user.empty() || user == kDefaultUserLabel) {
      label = kDefaultUserLabel;
    } else if (std::binary_search(names.begin(), names.end(), std::string_view(user))) {
      label = user;
    }
    labelled[label] += count;
  }
  auto family = Family("slotplane_proxy_connected_clients_by_user",
                       "Client connections open now by the user they authenticated as (default: "
                       "none or default; other: beyond the label limit)",
                       prometheus::MetricType::Gauge);
  for (const auto& [label, count] : labelled) {
    prometheus::ClientMetric metric = GaugeValue(static_cast<double>(count));
    metric.label = {{"user", std::string(label)}};
    family.metric.push_back(std::move(metric));
  }
  out->push_back(std::move(family));
}

}  // namespace

std::vector<prometheus::MetricFamily> ProxyMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  const auto& workers = context_->workers;
#define SLOTPLANE_COLLECT_COUNTER(name, help)                                             \
  {                                                                                       \
    uint64_t total = 0;                                                                   \
    for (const WorkerContext* w : workers) total += w->stats().name.Get();                \
    auto family =                                                                         \
        Family("slotplane_proxy_" #name "_total", help, prometheus::MetricType::Counter); \
    family.metric.push_back(CounterValue(static_cast<double>(total)));                    \
    out.push_back(std::move(family));                                                     \
  }
  SLOTPLANE_WORKER_COUNTERS(SLOTPLANE_COLLECT_COUNTER)
#undef SLOTPLANE_COLLECT_COUNTER

  auto errors =
      Family("slotplane_proxy_errors_total", "Error replies the proxy produced itself, by kind",
             prometheus::MetricType::Counter);
  for (size_t kind = 0; kind < static_cast<size_t>(ErrorKind::kCount); ++kind) {
    uint64_t total = 0;
    for (const WorkerContext* w : workers) total += w->stats().errors[kind].Get();
    errors.metric.push_back(CounterValue(static_cast<double>(total),
                                         {{"kind", ErrorKindName(static_cast<ErrorKind>(kind))}}));
  }
  out.push_back(std::move(errors));

  int64_t backends = 0;
  for (const WorkerContext* w : workers) backends += w->stats().backend_connections.load();
  AddGauge(&out, "slotplane_proxy_connected_clients", "Client connections open now",
           static_cast<double>(context_->clients.load()));
  AddGauge(&out, "slotplane_proxy_backend_connections",
           "Connections to cluster nodes open now (all workers)", static_cast<double>(backends));
  BufferPool::Usage buffers;
  for (const WorkerContext* w : workers) buffers.Add(w->buffers());
  AddGauge(&out, "slotplane_proxy_client_buffers_lent",
           "Client input and output buffers holding memory now (an idle client holds none)",
           static_cast<double>(buffers.buffers));
  AddGauge(&out, "slotplane_proxy_client_buffer_bytes",
           "Bytes of memory held by client input and output buffers now",
           static_cast<double>(buffers.bytes));
  AddGauge(&out, "slotplane_proxy_client_buffer_pool_free_bytes",
           "Bytes of buffer blocks the workers keep for reuse",
           static_cast<double>(buffers.free_bytes));
  // io_uring's receive rings (zeros under epoll): net/uring_poller.h.
  RecvRingStats ring;
  for (const WorkerContext* w : workers) ring.Add(w->loop().recv_stats());
  AddGauge(&out, "slotplane_proxy_io_uring_recv_ring_bytes",
           "Memory of the workers' io_uring receive rings (0 under epoll)",
           static_cast<double>(ring.ring_bytes));
  AddGauge(&out, "slotplane_proxy_io_uring_recv_held_bytes",
           "Bytes received through the rings and held for sockets that did not read them yet",
           static_cast<double>(ring.held_bytes));
  AddCounter(&out, "slotplane_proxy_io_uring_recv_bytes_total",
             "Bytes received through the io_uring receive rings",
             static_cast<double>(ring.received_bytes));
  AddCounter(&out, "slotplane_proxy_io_uring_recv_no_buffers_total",
             "Receives that found the ring empty (the socket was then read with read(2))",
             static_cast<double>(ring.no_buffers));
  AddGauge(&out, "slotplane_proxy_worker_threads", "Worker threads",
           static_cast<double>(workers.size()));
  if (context_->refresher != nullptr) {
    AddGauge(&out, "slotplane_proxy_topology_version",
             "Version of the cluster topology in use (increments on each change)",
             static_cast<double>(context_->refresher->version()));
    ClusterViewPtr view = context_->refresher->current();
    AddGauge(&out, "slotplane_proxy_cluster_slots_covered",
             "Hash slots with a master in the topology in use",
             view ? static_cast<double>(view->CoveredSlotCount()) : 0.0);
  }
  if (context_->applier != nullptr) {
    AddGauge(&out, "slotplane_proxy_policy_version",
             "Version of the policy in force (the control plane's snapshot version, or the count "
             "of standalone PROXY CONFIG SET changes)",
             static_cast<double>(context_->applier->policy()->version));
  }
  if (context_->control != nullptr) CollectControl(*context_->control, &out);
  CollectLatency(workers, &out);
  CollectCommands(workers, &out);
  const WorkerSnapshot snapshot = SnapshotWorkers(workers);
  CollectBackendNodes(snapshot.nodes, &out);
  CollectClientsByUser(snapshot.clients_by_user,
                       context_->applier != nullptr ? context_->applier->policy().get() : nullptr,
                       &out);
  AddGauge(&out, "slotplane_proxy_ready",
           "1 when GET /readyz answers 200 (topology covers every slot, workers serving)",
           ProxyReadiness(*context_).ok() ? 1 : 0);
  return out;
}

absl::Status ProxyReadiness(const ProxyContext& context) {
  if (context.draining.load()) return absl::UnavailableError("draining: the proxy is stopping");
  if (!context.serving.load()) return absl::UnavailableError("the workers are not serving yet");
  ClusterViewPtr view = context.applier != nullptr ? context.applier->view() : nullptr;
  if (view == nullptr) return absl::UnavailableError("no cluster topology yet");
  if (const int covered = view->CoveredSlotCount(); covered < kSlotCount) {
    return absl::UnavailableError(
        absl::StrCat("the topology covers ", covered, " of ", kSlotCount, " hash slots"));
  }
  if (context.control != nullptr) {
    ControlStatus status = context.control->Status();
    if (status.state != StreamState::kConnected && status.snapshots_applied == 0 &&
        status.cached_version == 0) {
      return absl::UnavailableError(absl::StrCat("no snapshot from the control plane at ",
                                                 status.address, " yet (stream ",
                                                 StreamStateName(status.state), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsServer(
    const std::string& address, std::shared_ptr<ProxyMetrics> metrics,
    const ProxyContext* context) {
  return MetricsHttpServer::Start(
      address, {std::move(metrics), std::make_shared<ProcessMetrics>("slotplane_proxy")},
      [context] { return ProxyReadiness(*context); });
}

}  // namespace slotplane::dataplane
