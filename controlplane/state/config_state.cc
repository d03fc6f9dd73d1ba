#include "controlplane/state/config_state.h"

#include "absl/strings/str_cat.h"
#include "common/cluster_view_proto.h"
#include "common/grpc_limits.h"
#include "common/logging.h"
#include "controlplane/watch/snapshot.h"
#include "google/protobuf/util/message_differencer.h"

namespace slotplane::control {
namespace {

// A shared store that refuses a save (another replica was first) is read again and the change
// retried this often before the caller sees Aborted.
constexpr int kMaxCommitAttempts = 3;

std::string Describe(const ClusterView& view) {
  return std::to_string(view.shards().size()) + " shards, " +
         std::to_string(view.CoveredSlotCount()) + " slots covered";
}

}  // namespace

absl::Status ConfigState::Load(const v1::Policy& initial_policy) {
  absl::StatusOr<std::optional<v1::ProxyConfig>> stored = store_->Load();
  if (!stored.ok()) return stored.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (!stored->has_value()) {
    policy_ = initial_policy;
    SP_LOG(kInfo) << "store " << store_->Describe() << " is empty: starting a new policy";
    return absl::OkStatus();
  }
  const v1::ProxyConfig& config = **stored;
  version_ = config.version();
  policy_ = config.policy();
  if (config.has_topology()) {
    absl::StatusOr<ClusterViewPtr> view = ClusterViewFromProto(config.topology());
    if (view.ok()) {
      topology_ = *view;
    } else {
      SP_LOG(kWarning) << "ignoring the stored topology: " << view.status().message();
    }
  }
  metrics_->version.Set(static_cast<double>(version_));
  SP_LOG(kInfo) << "loaded version " << version_ << " from " << store_->Describe()
                << (topology_ ? " (with its topology: " + Describe(*topology_) + ")" : "");
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ConfigState::EditPolicy(const PolicyEdit& edit, uint64_t expected_version,
                                                 const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  // A shared store may refuse the save (another replica saved first): catch up and, without an
  // expected version, apply the edit again to the newer policy.
  for (int attempt = 0;; ++attempt) {
    if (expected_version != 0 && expected_version != version_) {
      return absl::AbortedError("the current version is " + std::to_string(version_) + ", not " +
                                std::to_string(expected_version) +
                                ": the configuration changed meanwhile; read it again and retry");
    }
    v1::Policy policy = policy_;
    if (absl::Status s = edit(&policy); !s.ok()) return s;
    if (google::protobuf::util::MessageDifferencer::Equals(policy, policy_)) return version_;
    absl::Status s = CommitLocked(version_ + 1, policy, topology_);
    if (absl::IsAborted(s) && attempt < kMaxCommitAttempts) {
      CatchUpLocked();
      continue;
    }
    if (!s.ok()) return s;
    metrics_->policy_updates.Increment();
    SP_LOG(kInfo) << "version " << version_ << ": " << what;
    return version_;
  }
}

absl::StatusOr<bool> ConfigState::SetTopology(ClusterViewPtr view) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int attempt = 0;; ++attempt) {
    if (topology_ != nullptr && topology_->SameTopology(*view)) {
      if (!published_) PublishLocked();  // the stored version still describes the cluster
      return false;
    }
    absl::Status s = CommitLocked(version_ + 1, policy_, view);
    if (absl::IsAborted(s) && attempt < kMaxCommitAttempts) {
      CatchUpLocked();
      continue;
    }
    if (!s.ok()) return s;
    metrics_->topology_changes.Increment();
    SP_LOG(kInfo) << "version " << version_ << ": topology changed (" << Describe(*view) << ")";
    return true;
  }
}

void ConfigState::PublishStored() {
  std::lock_guard<std::mutex> lock(mu_);
  if (topology_ != nullptr && !published_) {
    SP_LOG(kWarning) << "serving the stored topology of version " << version_
                     << " until the cluster answers";
    PublishLocked();
  }
}

void ConfigState::Adopt(const v1::ProxyConfig& config) {
  std::lock_guard<std::mutex> lock(mu_);
  if (AdoptLocked(config)) {
    SP_LOG(kInfo) << "version " << version_ << ": saved by another replica, adopted";
  }
}

bool ConfigState::AdoptLocked(const v1::ProxyConfig& config) {
  if (config.version() <= version_) return false;
  ClusterViewPtr topology;
  if (config.has_topology()) {
    absl::StatusOr<ClusterViewPtr> view = ClusterViewFromProto(config.topology());
    if (!view.ok()) {
      SP_LOG(kError) << "not adopting version " << config.version()
                     << ": its topology is unusable: " << view.status().message();
      return false;
    }
    topology = *view;
  }
  version_ = config.version();
  policy_ = config.policy();
  topology_ = std::move(topology);
  published_ = false;
  metrics_->version.Set(static_cast<double>(version_));
  PublishLocked();
  return true;
}

void ConfigState::CatchUpLocked() {
  absl::StatusOr<std::optional<v1::ProxyConfig>> stored = store_->Load();
  if (!stored.ok() || !stored->has_value()) return;
  if (AdoptLocked(**stored)) {
    SP_LOG(kInfo) << "version " << version_ << ": saved by another replica first, adopted";
  }
}

StateView ConfigState::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  StateView view;
  view.version = version_;
  view.policy = policy_;
  view.topology = topology_;
  view.published = published_;
  return view;
}

ClusterViewPtr ConfigState::Topology() const {
  std::lock_guard<std::mutex> lock(mu_);
  return topology_;
}

v1::BackendCredentials ConfigState::BackendCredentials() const {
  std::lock_guard<std::mutex> lock(mu_);
  return policy_.backend();
}

absl::Status ConfigState::CommitLocked(uint64_t version, const v1::Policy& policy,
                                       ClusterViewPtr topology) {
  v1::ProxyConfig config;
  config.set_version(version);
  *config.mutable_policy() = policy;
  if (topology != nullptr) TopologyToProto(*topology, config.mutable_topology());
  // Every proxy receives the snapshot whole, in one gRPC message: a change past the limit is
  // refused here, before it is saved, rather than published and failed by every proxy.
  if (const size_t bytes = config.ByteSizeLong(); bytes > kMaxSnapshotBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the change would make a snapshot of ", bytes, " bytes, more than the ", kMaxSnapshotBytes,
        " bytes every proxy receives in one message; remove users first"));
  }
  metrics_->store_writes.Increment();
  if (absl::Status s = store_->Save(config, version_); !s.ok()) {
    metrics_->store_write_errors.Increment();
    // A shared store refused: another replica saved version_ + 1 first (not an outage).
    if (absl::IsAborted(s)) return s;
    SP_LOG(kError) << "cannot save version " << version << " to " << store_->Describe() << ": "
                   << s.message();
    return absl::UnavailableError("cannot save the change: " + std::string(s.message()));
  }
  version_ = version;
  policy_ = policy;
  topology_ = std::move(topology);
  published_ = false;
  metrics_->version.Set(static_cast<double>(version_));
  if (topology_ != nullptr) PublishLocked();
  return absl::OkStatus();
}

void ConfigState::PublishLocked() {
  if (topology_ == nullptr) return;
  metrics_->topology_shards.Set(static_cast<double>(topology_->shards().size()));
  metrics_->topology_slots_covered.Set(topology_->CoveredSlotCount());
  hub_->Publish(BuildSnapshot(ConfigLocked(), NonceFor(boot_id_, version_)));
  published_ = true;
}

v1::ProxyConfig ConfigState::ConfigLocked() const {
  v1::ProxyConfig config;
  config.set_version(version_);
  *config.mutable_policy() = policy_;
  // Unsalted digests of an old store never travel (the wiring salts them at start).
  for (v1::ClientUser& user : *config.mutable_policy()->mutable_users()) {
    user.clear_password_sha256();
  }
  if (topology_ != nullptr) TopologyToProto(*topology_, config.mutable_topology());
  return config;
}

}  // namespace slotplane::control
