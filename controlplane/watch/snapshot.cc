#include "controlplane/watch/snapshot.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/support/slice.h"
#include "slotplane/v1/discovery.pb.h"

namespace slotplane::control {

SnapshotPtr BuildSnapshot(const v1::ProxyConfig& config, const std::string& nonce) {
  v1::ControlMessage message;
  v1::Snapshot* snapshot = message.mutable_snapshot();
  snapshot->set_version(config.version());
  snapshot->set_nonce(nonce);
  *snapshot->mutable_config() = config;
  std::string bytes;
  message.SerializeToString(&bytes);

  auto out = std::make_shared<Snapshot>();
  out->version = config.version();
  out->nonce = nonce;
  out->size_bytes = bytes.size();
  grpc::Slice slice(bytes);
  out->message = grpc::ByteBuffer(&slice, 1);
  return out;
}

std::string NonceFor(const std::string& boot_id, uint64_t version) {
  return absl::StrCat(boot_id, "-", version);
}

std::string NewBootId() {
  std::random_device random;
  const uint64_t id = (static_cast<uint64_t>(random()) << 32) ^ random();
  return absl::StrFormat("%016x", id);
}

}  // namespace slotplane::control
