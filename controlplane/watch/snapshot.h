#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "grpcpp/support/byte_buffer.h"
#include "slotplane/v1/config.pb.h"

namespace slotplane::control {

// One published version, ready for the wire: the ControlMessage{Snapshot} is serialized once,
// here, into a ByteBuffer whose slices every watch stream shares (a stream's write takes a
// reference, not a copy). Immutable; shared between threads as SnapshotPtr.
struct Snapshot {
  uint64_t version = 0;
  std::string nonce;
  grpc::ByteBuffer message;  // the serialized v1::ControlMessage
  size_t size_bytes = 0;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Serializes `config` (whose version is the snapshot's) once.
SnapshotPtr BuildSnapshot(const v1::ProxyConfig& config, const std::string& nonce);

// The nonce of `version` in this process: "<boot id>-<version>". The boot id tells an ACK for
// this process's snapshot from one for a previous process's snapshot of the same version.
std::string NonceFor(const std::string& boot_id, uint64_t version);

// 16 random hex digits, chosen once per process start.
std::string NewBootId();

}  // namespace slotplane::control
