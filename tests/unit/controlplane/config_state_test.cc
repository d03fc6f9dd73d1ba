// ConfigState with an in-memory store and a real hub: versions, persistence across a restart,
// and the snapshot each version is serialized into.

#include "controlplane/state/config_state.h"

#include <gtest/gtest.h>

#include "common/cluster_view_proto.h"
#include "common/grpc_limits.h"
#include "controlplane/policy/policy_options.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "slotplane/v1/discovery.pb.h"

namespace slotplane::control {
namespace {

class MemoryStore : public PolicyStore {
 public:
  absl::StatusOr<std::optional<v1::ProxyConfig>> Load() override { return saved; }
  absl::Status Save(const v1::ProxyConfig& state, uint64_t previous_version) override {
    if (fail) return absl::UnavailableError("disk full");
    // A store shared by several replicas (etcd) compares the stored version.
    if (shared && (saved.has_value() ? saved->version() : 0) != previous_version) {
      return absl::AbortedError("another replica saved first");
    }
    ++saves;
    saved = state;
    return absl::OkStatus();
  }
  std::string Describe() const override { return "memory"; }

  std::optional<v1::ProxyConfig> saved;
  bool fail = false;
  bool shared = false;
  int saves = 0;
};

ClusterViewPtr View(uint16_t split, bool replica_failed = false) {
  Shard a;
  a.slots = {{0, split}};
  a.master.id = "a";
  a.master.address = {"127.0.0.1", 7001};
  ClusterNode replica;
  replica.id = "a2";
  replica.address = {"127.0.0.1", 7003};
  replica.role = NodeRole::kReplica;
  replica.health = replica_failed ? NodeHealth::kFailed : NodeHealth::kOnline;
  a.replicas = {replica};
  Shard b;
  b.slots = {{static_cast<uint16_t>(split + 1), 16383}};
  b.master.id = "b";
  b.master.address = {"127.0.0.1", 7002};
  return *ClusterView::Create({a, b}, 1);
}

// The ControlMessage a stream would receive for the hub's current version.
v1::ControlMessage Decode(const SnapshotPtr& snapshot) {
  grpc::ByteBuffer copy = snapshot->message;
  v1::ControlMessage message;
  EXPECT_TRUE(grpc::SerializationTraits<v1::ControlMessage>::Deserialize(&copy, &message).ok());
  return message;
}

class ConfigStateTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConfigState> NewState() {
    return std::make_unique<ConfigState>(&store_, &hub_, &metrics_, "boot");
  }

  ControlMetrics metrics_;
  WatchHub hub_{&metrics_};
  MemoryStore store_;
};

TEST_F(ConfigStateTest, NothingIsPublishedBeforeATopology) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  EXPECT_EQ(state->Current().version, 0u);
  auto version = state->EditPolicy(
      [](v1::Policy* p) { return SetPolicyOption(p, "maxclients", "77"); }, 0, "test");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 1u);
  EXPECT_EQ(hub_.Current(), nullptr) << "no slot map yet: nothing to give a proxy";
  EXPECT_EQ(store_.saved->version(), 1u);

  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  ASSERT_NE(hub_.Current(), nullptr);
  EXPECT_EQ(hub_.Current()->version, 2u);
}

TEST_F(ConfigStateTest, SnapshotCarriesVersionNonceTopologyAndPolicy) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  const SnapshotPtr snapshot = hub_.Current();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->version, 1u);
  EXPECT_EQ(snapshot->nonce, NonceFor("boot", 1));
  const v1::ControlMessage message = Decode(snapshot);
  ASSERT_TRUE(message.has_snapshot());
  EXPECT_EQ(message.snapshot().version(), 1u);
  EXPECT_EQ(message.snapshot().nonce(), "boot-1");
  EXPECT_EQ(message.snapshot().config().version(), 1u);
  ASSERT_EQ(message.snapshot().config().topology().shards_size(), 2);
  EXPECT_EQ(message.snapshot().config().topology().shards(1).slots(0).first(), 8001u);
  EXPECT_EQ(message.snapshot().config().policy().limits().maxclients(), 10000);
  EXPECT_EQ(snapshot->size_bytes, message.ByteSizeLong());
}

TEST_F(ConfigStateTest, OnlyRealChangesMakeVersions) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  EXPECT_FALSE(state->SetTopology(View(8000)).value()) << "same topology, new epoch object";
  EXPECT_TRUE(state->SetTopology(View(8000, /*replica_failed=*/true)).value()) << "health counts";
  EXPECT_EQ(state->Current().version, 2u);
  auto same = state->EditPolicy(
      [](v1::Policy* p) { return SetPolicyOption(p, "maxclients", "10000"); }, 0, "no-op");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, 2u) << "an edit that changes nothing is not a version";
  const SnapshotPtr before = hub_.Current();
  auto changed = state->EditPolicy(
      [](v1::Policy* p) { return SetPolicyOption(p, "enable-cross-slot", "yes"); }, 2, "test");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 3u);
  EXPECT_NE(hub_.Current(), before);
  EXPECT_TRUE(Decode(hub_.Current()).snapshot().config().policy().enable_cross_slot());
}

TEST_F(ConfigStateTest, StaleExpectedVersionIsAborted) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  auto stale = state->EditPolicy(
      [](v1::Policy* p) { return SetPolicyOption(p, "maxclients", "5"); }, 7, "test");
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(state->Current().policy.limits().maxclients(), 10000);
  auto invalid =
      state->EditPolicy([](v1::Policy* p) { return SetPolicyOption(p, "port", "5"); }, 0, "test");
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state->Current().version, 1u);
}

TEST_F(ConfigStateTest, FailedSaveChangesNothing) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  store_.fail = true;
  auto edit = state->EditPolicy([](v1::Policy* p) { return SetPolicyOption(p, "maxclients", "5"); },
                                0, "test");
  EXPECT_EQ(edit.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(state->SetTopology(View(9000)).ok());
  EXPECT_EQ(state->Current().version, 1u);
  EXPECT_EQ(hub_.Current()->version, 1u) << "nothing unsaved is ever published";
  store_.fail = false;
  EXPECT_TRUE(state->SetTopology(View(9000)).value()) << "the next poll retries";
  EXPECT_EQ(state->Current().version, 2u);
}

TEST_F(ConfigStateTest, ASnapshotPastTheMessageLimitIsRefused) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  const int saves = store_.saves;
  auto edit = state->EditPolicy(
      [](v1::Policy* p) {
        p->mutable_backend()->set_password(std::string(kMaxSnapshotBytes, 'x'));
        return absl::OkStatus();
      },
      0, "test");
  ASSERT_EQ(edit.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(edit.status().message()).find("every proxy receives in one message"),
            std::string::npos)
      << edit.status().message();
  EXPECT_EQ(store_.saves, saves) << "not saved";
  EXPECT_EQ(state->Current().version, 1u);
  EXPECT_EQ(hub_.Current()->version, 1u);
}

TEST_F(ConfigStateTest, UnsaltedDigestsNeverTravel) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state
                  ->EditPolicy(
                      [](v1::Policy* p) {
                        v1::ClientUser* user = p->add_users();
                        user->set_name("old");
                        user->add_password_sha256(std::string(64, 'a'));
                        return absl::OkStatus();
                      },
                      0, "test")
                  .ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  const v1::ControlMessage message = Decode(hub_.Current());
  ASSERT_EQ(message.snapshot().config().policy().users_size(), 1);
  EXPECT_EQ(message.snapshot().config().policy().users(0).password_sha256_size(), 0);
}

TEST_F(ConfigStateTest, RestartKeepsVersionAndPolicy) {
  {
    auto state = NewState();
    ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
    ASSERT_TRUE(state->SetTopology(View(8000)).value());
    ASSERT_TRUE(
        state
            ->EditPolicy([](v1::Policy* p) { return SetPolicyOption(p, "read-policy", "any"); }, 0,
                         "test")
            .ok());
  }
  ASSERT_EQ(store_.saved->version(), 2u);
  // Restart against the same cluster: the same version is served, nothing is saved.
  ControlMetrics metrics;
  WatchHub hub(&metrics);
  ConfigState state(&store_, &hub, &metrics, "boot2");
  v1::Policy ignored = DefaultPolicy();
  ignored.set_enable_cross_slot(true);
  ASSERT_TRUE(state.Load(ignored).ok());
  EXPECT_EQ(state.Current().version, 2u);
  EXPECT_EQ(state.Current().policy.read_policy(), v1::READ_POLICY_ANY);
  EXPECT_FALSE(state.Current().policy.enable_cross_slot()) << "the store wins over the flags";
  const int saves = store_.saves;
  EXPECT_FALSE(state.SetTopology(View(8000)).value());
  ASSERT_NE(hub.Current(), nullptr);
  EXPECT_EQ(hub.Current()->version, 2u);
  EXPECT_EQ(hub.Current()->nonce, "boot2-2") << "a new process, a new nonce";
  EXPECT_EQ(store_.saves, saves);
  // A change continues from the stored version.
  EXPECT_TRUE(state.SetTopology(View(9000)).value());
  EXPECT_EQ(state.Current().version, 3u);
}

TEST_F(ConfigStateTest, RestartWithClusterDownServesTheStoredTopology) {
  {
    auto state = NewState();
    ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
    ASSERT_TRUE(state->SetTopology(View(8000)).value());
  }
  ControlMetrics metrics;
  WatchHub hub(&metrics);
  ConfigState state(&store_, &hub, &metrics, "boot2");
  ASSERT_TRUE(state.Load(DefaultPolicy()).ok());
  EXPECT_EQ(hub.Current(), nullptr);
  state.PublishStored();
  ASSERT_NE(hub.Current(), nullptr);
  EXPECT_EQ(hub.Current()->version, 1u);
}

// A version another replica saved (the store's watch) is published with its own number.
TEST_F(ConfigStateTest, AdoptPublishesANewerVersionWithItsNumberAndIgnoresOlderOnes) {
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  ASSERT_EQ(state->Current().version, 1u);

  v1::ProxyConfig other;
  other.set_version(5);
  *other.mutable_policy() = DefaultPolicy();
  ASSERT_TRUE(SetPolicyOption(other.mutable_policy(), "maxclients", "9").ok());
  TopologyToProto(*View(9000), other.mutable_topology());
  state->Adopt(other);
  EXPECT_EQ(state->Current().version, 5u);
  EXPECT_EQ(state->Current().policy.limits().maxclients(), 9);
  EXPECT_TRUE(state->Topology()->SameTopology(*View(9000)));
  ASSERT_NE(hub_.Current(), nullptr);
  EXPECT_EQ(hub_.Current()->version, 5u);
  EXPECT_EQ(Decode(hub_.Current()).snapshot().config().policy().limits().maxclients(), 9);
  EXPECT_EQ(store_.saves, 1) << "adopting saves nothing";

  other.set_version(3);
  state->Adopt(other);
  other.set_version(5);
  state->Adopt(other);
  EXPECT_EQ(state->Current().version, 5u);
  EXPECT_EQ(hub_.Current()->version, 5u);
}

// A shared store refuses a save when another replica saved that version first: the state reads
// the store and applies the edit again on top (no expected version), or fails Aborted.
TEST_F(ConfigStateTest, ASharedStoreRefusalCatchesUpAndRetriesOrAborts) {
  store_.shared = true;
  auto state = NewState();
  ASSERT_TRUE(state->Load(DefaultPolicy()).ok());
  ASSERT_TRUE(state->SetTopology(View(8000)).value());
  auto other_replica_saves = [&](uint64_t version, const char* maxclients) {
    v1::ProxyConfig config = *store_.saved;
    config.set_version(version);
    ASSERT_TRUE(SetPolicyOption(config.mutable_policy(), "maxclients", maxclients).ok());
    store_.saved = config;
  };
  other_replica_saves(2, "50");
  auto version = state->EditPolicy(
      [](v1::Policy* p) { return SetPolicyOption(p, "enable-cross-slot", "yes"); }, 0, "test");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 3u);
  EXPECT_EQ(store_.saved->version(), 3u);
  EXPECT_EQ(store_.saved->policy().limits().maxclients(), 50)
      << "the other replica's change is kept";
  EXPECT_TRUE(store_.saved->policy().enable_cross_slot());
  EXPECT_EQ(hub_.Current()->version, 3u);

  other_replica_saves(4, "60");
  version = state->EditPolicy([](v1::Policy* p) { return SetPolicyOption(p, "maxclients", "70"); },
                              3, "test");
  EXPECT_TRUE(absl::IsAborted(version.status())) << version.status();
  EXPECT_EQ(state->Current().version, 4u) << "caught up with the store";
  EXPECT_EQ(state->Current().policy.limits().maxclients(), 60);
  EXPECT_EQ(store_.saved->policy().limits().maxclients(), 60);
}

}  // namespace
}  // namespace slotplane::control
