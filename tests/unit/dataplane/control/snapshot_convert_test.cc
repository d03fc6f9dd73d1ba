#include "dataplane/control/snapshot_convert.h"

#include <string>
#include <vector>

#include "common/password_digest.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

constexpr char kSalt[] = "00112233445566778899aabbccddeeff";

void AddNode(v1::Node* node, const std::string& host, uint32_t port, v1::NodeRole role) {
  node->set_host(host);
  node->set_port(port);
  node->set_role(role);
  node->set_health(v1::NODE_HEALTH_ONLINE);
}

// Three shards covering every slot, one replica each.
v1::ProxyConfig ValidConfig() {
  v1::ProxyConfig config;
  const uint32_t bounds[][2] = {{0, 5460}, {5461, 10922}, {10923, 16383}};
  for (int i = 0; i < 3; ++i) {
    v1::Shard* shard = config.mutable_topology()->add_shards();
    v1::SlotRange* range = shard->add_slots();
    range->set_first(bounds[i][0]);
    range->set_last(bounds[i][1]);
    AddNode(shard->mutable_master(), "127.0.0.1", 7001 + i, v1::NODE_ROLE_MASTER);
    AddNode(shard->add_replicas(), "127.0.0.1", 7004 + i, v1::NODE_ROLE_REPLICA);
  }
  config.mutable_topology()->set_epoch(6);
  v1::Policy* policy = config.mutable_policy();
  policy->set_enable_cross_slot(true);
  policy->set_read_policy(v1::READ_POLICY_PREFER_REPLICA);
  policy->set_log_level("warning");
  policy->mutable_limits()->set_maxclients(500);
  policy->mutable_limits()->set_max_redirects(7);
  policy->mutable_backend()->set_user("proxy");
  policy->mutable_backend()->set_password("backend-secret");
  v1::ClientUser* user = policy->add_users();
  user->set_name("alice");
  user->set_enabled(true);
  user->set_password_salt(kSalt);
  user->add_password_salted_sha256(SaltedPasswordDigest(kSalt, "alice-pass"));
  return config;
}

TEST(SnapshotConvertTest, ConvertsTopologyAndPolicy) {
  auto converted = ConvertSnapshot(42, ValidConfig(), ProxyOptions(), 0);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->version, 42u);
  ASSERT_NE(converted->view, nullptr);
  EXPECT_EQ(converted->view->shards().size(), 3u);
  EXPECT_EQ(converted->view->CoveredSlotCount(), 16384);
  EXPECT_EQ(converted->view->epoch(), 6u);
  const ProxyPolicy& p = *converted->policy;
  EXPECT_EQ(p.version, 42u);
  EXPECT_TRUE(p.enable_cross_slot);
  EXPECT_EQ(p.read_policy, ReadPolicy::kPreferReplica);
  EXPECT_EQ(p.log_level, LogLevel::kWarning);
  EXPECT_EQ(p.maxclients, 500);
  EXPECT_EQ(p.max_redirects, 7);
  EXPECT_EQ(p.backend_user, "proxy");
  EXPECT_EQ(p.backend_password, "backend-secret");
  ASSERT_EQ(p.users.size(), 1u);
  EXPECT_EQ(p.users[0].name, "alice");
  EXPECT_EQ(p.users[0].password_salt, kSalt);
  EXPECT_EQ(p.users[0].password_sha256,
            std::vector<std::string>{SaltedPasswordDigest(kSalt, "alice-pass")});
  EXPECT_TRUE(p.auth_required) << "users without a nopass default user need AUTH";
}

TEST(SnapshotConvertTest, UnsaltedDigestsOfAnOlderControlPlane) {
  v1::ProxyConfig config = ValidConfig();
  v1::ClientUser* user = config.mutable_policy()->mutable_users(0);
  user->clear_password_salt();
  user->clear_password_salted_sha256();
  user->add_password_sha256(Sha256Hex("alice-pass"));
  auto converted = ConvertSnapshot(42, config, ProxyOptions(), 0);
  ASSERT_TRUE(converted.ok()) << converted.status();
  const ClientUser& alice = converted->policy->users[0];
  EXPECT_EQ(alice.password_salt, "");
  EXPECT_EQ(alice.password_sha256, std::vector<std::string>{Sha256Hex("alice-pass")});
}

TEST(SnapshotConvertTest, UnsetFieldsTakeTheProxysOwnOptions) {
  ProxyOptions local;
  local.maxclients = 1234;
  local.tryagain_retries = 9;
  local.log_level = LogLevel::kDebug;
  local.auth = "local-secret";
  local.requirepass = "local-pass";
  auto policy = PolicyFromProto(v1::Policy(), local, 0);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->maxclients, 1234);
  EXPECT_EQ(policy->tryagain_retries, 9);
  EXPECT_EQ(policy->log_level, LogLevel::kDebug);
  EXPECT_EQ(policy->backend_password, "local-secret");
  EXPECT_EQ(policy->read_policy, ReadPolicy::kMaster);
  ASSERT_NE(policy->FindUser("default"), nullptr) << "requirepass still applies";
  EXPECT_TRUE(policy->auth_required);
}

TEST(SnapshotConvertTest, TheBackendUserComesWithTheBackendPassword) {
  ProxyOptions local;
  local.auth = "local-pw";
  local.auth_user = "local-user";
  v1::Policy policy;
  policy.mutable_backend()->set_user("fleet-user");
  auto converted = PolicyFromProto(policy, local, 0);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->backend_user, "local-user") << "no password: both stay this proxy's";
  EXPECT_EQ(converted->backend_password, "local-pw");
  policy.mutable_backend()->set_password("fleet-pw");
  policy.mutable_backend()->clear_user();
  converted = PolicyFromProto(policy, local, 0);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->backend_user, "") << "the fleet's password alone: AUTH <password>";
  EXPECT_EQ(converted->backend_password, "fleet-pw");
}

TEST(SnapshotConvertTest, NoShardsMeansNoTopologyYet) {
  v1::ProxyConfig config = ValidConfig();
  config.clear_topology();
  auto converted = ConvertSnapshot(3, config, ProxyOptions(), 0);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->view, nullptr);
  EXPECT_NE(converted->policy, nullptr);
}

TEST(SnapshotConvertTest, RejectsWhatTheProxyCannotApply) {
  struct Case {
    const char* name;
    void (*mutate)(v1::ProxyConfig*);
    const char* expected;
  };
  const Case cases[] = {
      {"unknown read policy",
       [](v1::ProxyConfig* c) {
         c->mutable_policy()->set_read_policy(static_cast<v1::ReadPolicy>(42));
       },
       "unknown read policy 42"},
      {"unknown log level", [](v1::ProxyConfig* c) { c->mutable_policy()->set_log_level("loud"); },
       "unknown log level"},
      {"user without name",
       [](v1::ProxyConfig* c) { c->mutable_policy()->add_users()->set_enabled(true); },
       "has no name"},
      {"user twice",
       [](v1::ProxyConfig* c) { c->mutable_policy()->add_users()->set_name("alice"); },
       "listed twice"},
      {"bad hash",
       [](v1::ProxyConfig* c) {
         c->mutable_policy()->mutable_users(0)->add_password_salted_sha256("not-a-hash");
       },
       "not SHA-256"},
      {"bad salt",
       [](v1::ProxyConfig* c) { c->mutable_policy()->mutable_users(0)->set_password_salt("xyz"); },
       "salt that is not 32 hex digits"},
      {"limit out of range",
       [](v1::ProxyConfig* c) { c->mutable_policy()->mutable_limits()->set_max_redirects(1000); },
       "max-redirects 1000 is out of range"},
      {"pool size out of range",
       [](v1::ProxyConfig* c) { c->mutable_policy()->set_connections_pool_size(5000); },
       "policy: connections-pool-size 5000 is out of range (0..1000)"},
      {"negative limit",
       [](v1::ProxyConfig* c) { c->mutable_policy()->mutable_limits()->set_maxclients(-1); },
       "maxclients -1"},
      {"slot out of range",
       [](v1::ProxyConfig* c) {
         c->mutable_topology()->mutable_shards(2)->mutable_slots(0)->set_last(16384);
       },
       "topology: shard 2: invalid slot range"},
      {"slot claimed twice",
       [](v1::ProxyConfig* c) {
         c->mutable_topology()->mutable_shards(1)->mutable_slots(0)->set_first(5000);
       },
       "topology:"},
      {"master without host",
       [](v1::ProxyConfig* c) {
         c->mutable_topology()->mutable_shards(0)->mutable_master()->clear_host();
       },
       "no host"},
  };
  for (const Case& c : cases) {
    v1::ProxyConfig config = ValidConfig();
    c.mutate(&config);
    auto converted = ConvertSnapshot(1, config, ProxyOptions(), 0);
    ASSERT_FALSE(converted.ok()) << c.name;
    EXPECT_NE(converted.status().message().find(c.expected), std::string::npos)
        << c.name << ": " << converted.status();
  }
}

TEST(SnapshotConvertTest, MaxclientsBeyondTheOpenFilesLimitIsRejected) {
  v1::ProxyConfig config = ValidConfig();
  config.mutable_policy()->mutable_limits()->set_maxclients(5000);
  EXPECT_TRUE(ConvertSnapshot(1, config, ProxyOptions(), 5000).ok());
  auto converted = ConvertSnapshot(1, config, ProxyOptions(), 4999);
  ASSERT_FALSE(converted.ok());
  EXPECT_NE(converted.status().message().find("open-files limit"), std::string::npos);
  EXPECT_EQ(MaxClientsForOpenFiles(1024, 2), 1024 - 32 - 32);
  EXPECT_EQ(MaxClientsForOpenFiles(10, 4), 1);
}

}  // namespace
}  // namespace slotplane::dataplane
