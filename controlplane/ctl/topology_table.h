#pragma once

#include <string>
#include <vector>

#include "slotplane/v1/config.pb.h"

namespace slotplane::ctl {

// "online", "loading", "failed" (the cluster marked the node FAIL: unreachable from a majority
// of masters), "unknown".
const char* HealthName(v1::NodeHealth health);

// The shards ordered by slot: by the first slot each owns, shards without slots last (in the
// order given).
std::vector<const v1::Shard*> ShardsBySlot(const v1::Topology& topology);

// Hash slots with a master.
int CoveredSlots(const v1::Topology& topology);

// `slotplanectl topology`'s table: one row per node, ordered by slot (a shard's master, then its
// replicas), with the node's role and state, so failed and loading nodes stand out; slot ranges
// no shard owns get a row of their own with the state "uncovered".
std::string TopologyTable(const v1::Topology& topology);

}  // namespace slotplane::ctl
