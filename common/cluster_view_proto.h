#pragma once

#include "absl/status/statusor.h"
#include "common/cluster_view.h"
#include "slotplane/v1/config.pb.h"

// Conversions between the immutable ClusterView and the wire contract's Topology message. The
// control plane builds the message from what it discovered; a proxy rebuilds a view from it.
namespace slotplane {

void TopologyToProto(const ClusterView& view, v1::Topology* out);

// Validates as ClusterView::Create does (slot ranges, no slot claimed twice) and also rejects
// nodes without a host or with a port outside 1..65535; errors say which shard and node.
absl::StatusOr<ClusterViewPtr> ClusterViewFromProto(const v1::Topology& topology);

}  // namespace slotplane
