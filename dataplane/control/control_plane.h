#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cluster_view.h"

namespace slotplane::dataplane {

// State of the watch stream to the control plane.
enum class StreamState { kConnecting, kConnected, kDisconnected };
const char* StreamStateName(StreamState state);

// What PROXY INFO (fleet section) and the metrics show about the control plane.
struct ControlStatus {
  std::string address;  // the `control-plane` option as written (one host:port or a list)
  // The replica of the open stream, or of the last one ("" before the first): one candidate of
  // `address` (ControlEndpoint::target).
  std::string replica;
  std::string proxy_id;
  StreamState state = StreamState::kDisconnected;
  uint64_t acked_version = 0;  // last version acked to the control plane
  uint64_t last_nack_version = 0;
  std::string last_nack_error;
  std::string last_stream_error;        // why the stream last ended or failed to open
  int64_t connected_since_unix_ms = 0;  // 0 while not connected
  uint64_t snapshots_applied = 0;
  uint64_t snapshots_nacked = 0;
  uint64_t reconnects = 0;  // streams opened after the first
  // Streams that delivered a snapshot on another replica than the stream before.
  uint64_t replica_switches = 0;
  // Snapshots of the version already in force (a new replica's first): acknowledged, not applied.
  uint64_t snapshots_unchanged = 0;
  uint64_t moved_reports = 0;
  std::string cache_file;
  uint64_t cached_version = 0;  // version of the snapshot in the cache file (0: none)
};

// One proxy as the control plane sees it (PROXY FLEET).
struct FleetMember {
  std::string proxy_id;
  std::string hostname;
  std::string listen_address;
  std::string build_version;
  int64_t connected_since_unix_ms = 0;
  uint64_t acked_version = 0;
  uint64_t last_nack_version = 0;
  std::string last_nack_error;
  uint64_t connected_clients = 0;
  uint64_t commands_processed = 0;
  uint64_t moved_redirects = 0;
};

struct FleetListing {
  uint64_t current_version = 0;
  std::vector<FleetMember> proxies;
};

// The proxy's side of the control plane, as workers and the PROXY command use it. Every method is
// thread-safe and returns at once: calls that need the network complete later through `done`,
// which runs on a control-plane thread (never a worker's), so a caller must hand the result back
// to its own thread (Worker::FinishAsync). The implementation is ControlClient (gRPC); tests may
// substitute another.
class ControlPlane {
 public:
  virtual ~ControlPlane() = default;

  // A worker followed a MOVED (rate-limited by the worker); the control plane refreshes the
  // topology at once.
  virtual void ReportMoved(uint16_t slot, const NodeAddress& address) = 0;

  virtual ControlStatus Status() const = 0;

  // Admin.UpdatePolicy with `options` (config-file names and values); `done` gets the version
  // once the control plane accepted it and this proxy applied that version (or a later one), or
  // an error (rejected, unreachable, NACKed here, or not applied within the timeout).
  virtual void UpdatePolicy(std::map<std::string, std::string> options, std::string origin,
                            std::function<void(absl::StatusOr<uint64_t>)> done) = 0;
  // Admin.RefreshTopology.
  virtual void RefreshTopology(std::function<void(absl::Status)> done) = 0;
  // Admin.ListProxies.
  virtual void ListProxies(std::function<void(absl::StatusOr<FleetListing>)> done) = 0;
};

}  // namespace slotplane::dataplane
