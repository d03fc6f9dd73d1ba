// PROXY CLUSTER [INFO|STATUS|CONNECTION|NODES|UPDATE] and PROXY FLEET: the topology this proxy
// routes by, and the fleet of proxies the control plane sees. Everything here reads immutable
// snapshots (ClusterView, ControlStatus), so no order of subcommands can observe a half-updated
// topology.

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "dataplane/control/control_plane.h"
#include "dataplane/control/topology_refresher.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/proxy_command.h"
#include "dataplane/local/proxy_subcommands.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {
namespace {

const char* HealthName(NodeHealth health) {
  switch (health) {
    case NodeHealth::kOnline:
      return "online";
    case NodeHealth::kLoading:
      return "loading";
    case NodeHealth::kFailed:
      return "fail";
  }
  return "online";
}

int SlotCount(const Shard& shard) {
  int count = 0;
  for (const SlotRange& range : shard.slots) count += range.last - range.first + 1;
  return count;
}

// "ok": every slot has a master; "degraded": some have none; "down": no topology at all.
const char* ClusterStatus(const ClusterViewPtr& view) {
  if (view == nullptr || view->CoveredSlotCount() == 0) return "down";
  return view->CoveredSlotCount() == kSlotCount ? "ok" : "degraded";
}

void AppendNode(WorkerContext* worker, const ClusterNode& node, const ClusterNode& master,
                int slots, std::string* out) {
  bool connected = false;
  worker->router().ForEachBackend([&](const BackendConn& conn) {
    connected = connected || (conn.address() == node.address && conn.connected());
  });
  const bool is_master = &node == &master;
  resp::AppendArrayHeader(out, 14);
  resp::AppendBulk(out, "id");
  resp::AppendBulk(out, node.id);
  resp::AppendBulk(out, "address");
  resp::AppendBulk(out, node.address.ToString());
  resp::AppendBulk(out, "role");
  resp::AppendBulk(out, is_master ? "master" : "replica");
  resp::AppendBulk(out, "master");
  resp::AppendBulk(out, is_master ? "" : master.address.ToString());
  resp::AppendBulk(out, "health");
  resp::AppendBulk(out, HealthName(node.health));
  resp::AppendBulk(out, "slots");
  resp::AppendInteger(out, is_master ? slots : 0);
  resp::AppendBulk(out, "connected");
  resp::AppendInteger(out, connected ? 1 : 0);
}

// Every node of the view this worker routes by: masters and their replicas, shard by shard.
void ReplyNodes(WorkerContext* worker, ClientSession* client) {
  ClusterViewPtr view = worker->router().view();
  std::string reply;
  if (view == nullptr) {
    resp::AppendArrayHeader(&reply, 0);
    client->Reply(reply);
    return;
  }
  size_t count = 0;
  for (const Shard& shard : view->shards()) count += 1 + shard.replicas.size();
  resp::AppendArrayHeader(&reply, count);
  for (const Shard& shard : view->shards()) {
    int slots = SlotCount(shard);
    AppendNode(worker, shard.master, shard.master, slots, &reply);
    for (const ClusterNode& replica : shard.replicas) {
      AppendNode(worker, replica, shard.master, slots, &reply);
    }
  }
  client->Reply(reply);
}

// Asks the control plane to refresh (the new topology arrives on the stream), or the proxy's own
// refresher when standalone or while the control plane is away.
void Update(WorkerContext* worker, ClientSession* client) {
  ProxyContext& ctx = worker->proxy();
  if (ctx.control != nullptr && ctx.control->Status().state == StreamState::kConnected) {
    Request* request = worker->clients().BeginAsync(client);
    ctx.control->RefreshTopology([worker, request](absl::Status status) {
      worker->clients().FinishAsync(request, status.ok()
                                                 ? std::string(resp::kOk)
                                                 : errors::Generic(StdView(status.message())));
    });
    return;
  }
  if (ctx.refresher != nullptr) ctx.refresher->RequestRefresh();
  client->Reply(resp::kOk);
}

void AppendMember(const FleetMember& m, uint64_t fleet_version, bool self, std::string* out) {
  resp::AppendArrayHeader(out, 26);
  auto field = [out](std::string_view name, std::string_view value) {
    resp::AppendBulk(out, name);
    resp::AppendBulk(out, value);
  };
  auto number = [out](std::string_view name, int64_t value) {
    resp::AppendBulk(out, name);
    resp::AppendInteger(out, value);
  };
  field("proxy-id", m.proxy_id);
  field("hostname", m.hostname);
  field("address", m.listen_address);
  field("build", m.build_version);
  number("connected-since-ms", m.connected_since_unix_ms);
  number("acked-version", static_cast<int64_t>(m.acked_version));
  number("fleet-version", static_cast<int64_t>(fleet_version));
  number("last-nack-version", static_cast<int64_t>(m.last_nack_version));
  field("last-nack-error", m.last_nack_error);
  number("connected-clients", static_cast<int64_t>(m.connected_clients));
  number("commands-processed", static_cast<int64_t>(m.commands_processed));
  number("moved-redirects", static_cast<int64_t>(m.moved_redirects));
  number("self", self ? 1 : 0);
}

}  // namespace

void ReplyBulkText(ClientSession* client, std::string_view text) {
  std::string reply;
  resp::AppendBulk(&reply, text);
  client->Reply(reply);
}

void ProxyClusterCommand(WorkerContext* worker, ClientSession* client,
                         const std::vector<std::string_view>& args) {
  std::string sub = args.size() > 2 ? absl::AsciiStrToLower(AbslView(args[2])) : "info";
  if (args.size() > 3) {
    client->Reply(errors::WrongArity("proxy|cluster"));
  } else if (sub == "info") {
    ReplyBulkText(client, ProxyInfoText(worker, "cluster"));
  } else if (sub == "status") {
    std::string reply;
    resp::AppendSimple(&reply, ClusterStatus(worker->router().view()));
    client->Reply(reply);
  } else if (sub == "connection") {
    // redis-cluster-proxy's answer: whether this client's commands go over the worker's shared
    // connections or over connections of its own (PROXY MULTIPLEXING OFF, connection state).
    const SessionState* state = SessionState::Active(client);
    std::string reply;
    resp::AppendSimple(&reply, state != nullptr && !state->multiplexed() ? "private" : "shared");
    client->Reply(reply);
  } else if (sub == "nodes") {
    ReplyNodes(worker, client);
  } else if (sub == "update") {
    Update(worker, client);
  } else {
    client->Reply(
        errors::Generic(absl::StrCat("Unknown PROXY CLUSTER subcommand '", AbslView(args[2]),
                                     "'. Try INFO, STATUS, CONNECTION, NODES or "
                                     "UPDATE.")));
  }
}

void ProxyFleetCommand(WorkerContext* worker, ClientSession* client,
                       const std::vector<std::string_view>& args) {
  ControlPlane* control = worker->proxy().control;
  if (args.size() != 2) {
    client->Reply(errors::WrongArity("proxy|fleet"));
    return;
  }
  if (control == nullptr) {
    client->Reply(errors::Generic(
        "PROXY FLEET needs a control plane: this proxy runs standalone (see control-plane)"));
    return;
  }
  Request* request = worker->clients().BeginAsync(client);
  std::string self = control->Status().proxy_id;
  control->ListProxies([worker, request, self](absl::StatusOr<FleetListing> listing) {
    if (!listing.ok()) {
      worker->clients().FinishAsync(request, errors::Generic(StdView(listing.status().message())));
      return;
    }
    std::string reply;
    resp::AppendArrayHeader(&reply, listing->proxies.size());
    for (const FleetMember& member : listing->proxies) {
      AppendMember(member, listing->current_version, member.proxy_id == self, &reply);
    }
    worker->clients().FinishAsync(request, std::move(reply));
  });
}

}  // namespace slotplane::dataplane
