#pragma once

#include <cstddef>

// The message size limits of the gRPC link between slotplane-control and its clients (proxies,
// slotplanectl), one constant for both ends so that what one side may send the other accepts.
namespace slotplane {

// The largest gRPC message either side sends or receives: a whole snapshot (topology, policy and
// every client user) travels as one message. gRPC's own default is 4 MiB.
constexpr int kMaxGrpcMessageBytes = 64 * 1024 * 1024;

// What a peer that does not say its limit accepts (gRPC's default receive limit): proxies built
// before the limit was raised.
constexpr size_t kDefaultGrpcReceiveBytes = 4 * 1024 * 1024;

// The largest snapshot the control plane publishes: the message limit less room for the framing
// of the ControlMessage around it. A policy change that would make a larger snapshot is refused.
constexpr size_t kMaxSnapshotBytes = kMaxGrpcMessageBytes - 1024 * 1024;

}  // namespace slotplane
