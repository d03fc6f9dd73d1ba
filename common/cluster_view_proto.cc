#include "common/cluster_view_proto.h"

#include "absl/strings/str_cat.h"

namespace slotplane {
namespace {

v1::NodeRole RoleToProto(NodeRole role) {
  return role == NodeRole::kMaster ? v1::NODE_ROLE_MASTER : v1::NODE_ROLE_REPLICA;
}

v1::NodeHealth HealthToProto(NodeHealth health) {
  switch (health) {
    case NodeHealth::kOnline:
      return v1::NODE_HEALTH_ONLINE;
    case NodeHealth::kLoading:
      return v1::NODE_HEALTH_LOADING;
    case NodeHealth::kFailed:
      return v1::NODE_HEALTH_FAILED;
  }
  return v1::NODE_HEALTH_UNSPECIFIED;
}

// Unspecified health (an older or partial sender) counts as online: the proxy will find out.
NodeHealth HealthFromProto(v1::NodeHealth health) {
  switch (health) {
    case v1::NODE_HEALTH_LOADING:
      return NodeHealth::kLoading;
    case v1::NODE_HEALTH_FAILED:
      return NodeHealth::kFailed;
    default:
      return NodeHealth::kOnline;
  }
}

void NodeToProto(const ClusterNode& node, v1::Node* out) {
  out->set_id(node.id);
  out->set_host(node.address.host);
  out->set_port(node.address.port);
  out->set_role(RoleToProto(node.role));
  out->set_health(HealthToProto(node.health));
}

absl::StatusOr<ClusterNode> NodeFromProto(const v1::Node& node, NodeRole role,
                                          const std::string& where) {
  if (node.host().empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": no host"));
  if (node.port() == 0 || node.port() > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": invalid port ", node.port()));
  }
  ClusterNode out;
  out.id = node.id();
  out.address = {node.host(), static_cast<uint16_t>(node.port())};
  out.role = role;  // the position in the shard is authoritative, not the role field
  out.health = HealthFromProto(node.health());
  return out;
}

absl::StatusOr<Shard> ShardFromProto(const v1::Shard& shard, int index) {
  Shard out;
  for (const v1::SlotRange& range : shard.slots()) {
    if (range.first() > range.last() || range.last() >= static_cast<uint32_t>(kSlotCount)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shard ", index, ": invalid slot range ", range.first(), "-", range.last()));
    }
    out.slots.push_back(
        {static_cast<uint16_t>(range.first()), static_cast<uint16_t>(range.last())});
  }
  const std::string where = absl::StrCat("shard ", index);
  if (!shard.has_master()) return absl::InvalidArgumentError(absl::StrCat(where, ": no master"));
  absl::StatusOr<ClusterNode> master =
      NodeFromProto(shard.master(), NodeRole::kMaster, absl::StrCat(where, " master"));
  if (!master.ok()) return master.status();
  out.master = *std::move(master);
  for (int i = 0; i < shard.replicas_size(); ++i) {
    absl::StatusOr<ClusterNode> replica =
        NodeFromProto(shard.replicas(i), NodeRole::kReplica, absl::StrCat(where, " replica ", i));
    if (!replica.ok()) return replica.status();
    out.replicas.push_back(*std::move(replica));
  }
  return out;
}

}  // namespace

void TopologyToProto(const ClusterView& view, v1::Topology* out) {
  out->Clear();
  out->set_epoch(view.epoch());
  for (const Shard& shard : view.shards()) {
    v1::Shard* s = out->add_shards();
    for (const SlotRange& range : shard.slots) {
      v1::SlotRange* r = s->add_slots();
      r->set_first(range.first);
      r->set_last(range.last);
    }
    NodeToProto(shard.master, s->mutable_master());
    for (const ClusterNode& replica : shard.replicas) NodeToProto(replica, s->add_replicas());
  }
}

absl::StatusOr<ClusterViewPtr> ClusterViewFromProto(const v1::Topology& topology) {
  std::vector<Shard> shards;
  shards.reserve(topology.shards_size());
  for (int i = 0; i < topology.shards_size(); ++i) {
    absl::StatusOr<Shard> shard = ShardFromProto(topology.shards(i), i);
    if (!shard.ok()) return shard.status();
    shards.push_back(*std::move(shard));
  }
  return ClusterView::Create(std::move(shards), topology.epoch());
}

}  // namespace slotplane
