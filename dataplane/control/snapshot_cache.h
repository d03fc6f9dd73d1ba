#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "slotplane/v1/discovery.pb.h"

namespace slotplane::dataplane {

// The last good snapshot on disk (`control-plane-cache`), so a proxy that restarts while its
// control plane is unreachable serves the fleet's last topology and policy (static stability).
//
// Format: one text line "slotplane-snapshot-cache 1 <control-plane address>\n", then the
// serialized slotplane.v1.Snapshot. The address guards against using a cache written for another
// control plane (and so, possibly, another cluster). Mode 0600: it holds credentials.

// Writes atomically: a temporary file in the same directory, fsync, rename over `path`, fsync of
// the directory. A crash leaves the old cache or the new one, never a torn file.
absl::Status SaveSnapshotCache(const std::string& path, const std::string& control_plane,
                               const v1::Snapshot& snapshot);

// NotFound when there is no cache file; FailedPrecondition when it was written for another control
// plane; DataLoss when it cannot be parsed.
absl::StatusOr<v1::Snapshot> LoadSnapshotCache(const std::string& path,
                                               const std::string& control_plane);

}  // namespace slotplane::dataplane
