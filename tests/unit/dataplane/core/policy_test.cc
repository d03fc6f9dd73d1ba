#include "dataplane/core/policy.h"

#include "common/sha256.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

TEST(PolicyTest, NoUsersNoAuth) {
  ProxyPolicy policy = PolicyFromOptions(ProxyOptions());
  EXPECT_TRUE(policy.users.empty());
  EXPECT_FALSE(policy.auth_required);
}

TEST(PolicyTest, OutputBufferLimitsAreBoundedByDefaultAndFollowTheOption) {
  ProxyPolicy policy = PolicyFromOptions(ProxyOptions());
  EXPECT_EQ(policy.output_limits.normal.hard_bytes, 256LL << 20);
  EXPECT_EQ(policy.output_limits.normal.soft_bytes, 0);
  EXPECT_EQ(policy.output_limits.pubsub.hard_bytes, 32LL << 20);
  EXPECT_EQ(policy.output_limits.pubsub.soft_bytes, 8LL << 20);
  EXPECT_EQ(policy.output_limits.pubsub.soft_seconds, 60);
  ASSERT_TRUE(SetPolicyOption(&policy, "client-output-buffer-limit", "normal 1mb 512kb 5").ok());
  EXPECT_EQ(policy.output_limits.normal.hard_bytes, 1 << 20);
  EXPECT_EQ(policy.output_limits.normal.soft_bytes, 512 << 10);
  EXPECT_EQ(policy.output_limits.normal.soft_seconds, 5);
  EXPECT_EQ(policy.output_limits.pubsub.hard_bytes, 32LL << 20) << "pubsub keeps its limits";
  EXPECT_EQ(*GetPolicyOption(policy, "client-output-buffer-limit"),
            "normal 1048576 524288 5 pubsub 33554432 8388608 60");
}

TEST(PolicyTest, RequirepassIsTheDefaultUsersPassword) {
  ProxyOptions options;
  options.requirepass = "secret";
  ProxyPolicy policy = PolicyFromOptions(options);
  const ClientUser* user = policy.FindUser("default");
  ASSERT_NE(user, nullptr);
  EXPECT_TRUE(user->enabled);
  EXPECT_FALSE(user->nopass);
  ASSERT_EQ(user->password_sha256.size(), 1u);
  EXPECT_EQ(user->password_sha256[0], Sha256Hex("secret"));
  EXPECT_TRUE(policy.auth_required);
}

TEST(PolicyTest, UsersWithoutANopassDefaultRequireAuth) {
  ProxyOptions options;
  auto alice = ParseUserRules({"alice", "on", ">pw"});
  ASSERT_TRUE(alice.ok()) << alice.status();
  options.users.push_back(*alice);
  EXPECT_TRUE(PolicyFromOptions(options).auth_required);
  auto open_default = ParseUserRules({"default", "on", "nopass"});
  ASSERT_TRUE(open_default.ok());
  options.users.push_back(*open_default);
  EXPECT_FALSE(PolicyFromOptions(options).auth_required);
}

TEST(PolicyTest, PolicyOptionsAndPerProcessOptions) {
  for (const char* name : {"enable-cross-slot", "read-policy", "log-level", "maxclients",
                           "requirepass", "auth", "max-redirects", "dump-queries"}) {
    EXPECT_TRUE(IsPolicyOption(name)) << name;
  }
  for (const char* name : {"port", "bind", "threads", "cluster", "control-plane", "metrics-port"}) {
    EXPECT_FALSE(IsPolicyOption(name)) << name;
  }
  for (const std::string& name : PolicyOptionNames()) {
    EXPECT_TRUE(GetOption(ProxyOptions(), name).ok()) << name << " is not a proxy option";
  }
}

TEST(PolicyTest, SetAndGetPolicyOptions) {
  ProxyPolicy policy = PolicyFromOptions(ProxyOptions());
  ASSERT_TRUE(SetPolicyOption(&policy, "enable-cross-slot", "yes").ok());
  EXPECT_TRUE(policy.enable_cross_slot);
  EXPECT_EQ(*GetPolicyOption(policy, "ENABLE-CROSS-SLOT"), "yes");
  ASSERT_TRUE(SetPolicyOption(&policy, "read-policy", "prefer-replica").ok());
  EXPECT_EQ(*GetPolicyOption(policy, "read-policy"), "prefer-replica");
  ASSERT_TRUE(SetPolicyOption(&policy, "proto-max-bulk-len", "2mb").ok());
  EXPECT_EQ(policy.proto_max_bulk_len, 2 * 1024 * 1024);
  ASSERT_TRUE(SetPolicyOption(&policy, "auth", "backend").ok());
  EXPECT_EQ(*GetPolicyOption(policy, "auth"), "(set)");

  absl::Status bad = SetPolicyOption(&policy, "read-policy", "nearest");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'read-policy'"), std::string::npos) << bad;
  EXPECT_EQ(policy.read_policy, ReadPolicy::kPreferReplica) << "unchanged on error";
  EXPECT_FALSE(SetPolicyOption(&policy, "port", "1").ok());
  EXPECT_FALSE(SetPolicyOption(&policy, "user", "bob on >x").ok());
}

TEST(PolicyTest, RequirepassAtRuntime) {
  ProxyPolicy policy = PolicyFromOptions(ProxyOptions());
  ASSERT_TRUE(SetPolicyOption(&policy, "requirepass", "s3cret").ok());
  EXPECT_TRUE(policy.auth_required);
  EXPECT_EQ(*GetPolicyOption(policy, "requirepass"), "(set)");
  // Redis: an empty requirepass makes the default user nopass again.
  ASSERT_TRUE(SetPolicyOption(&policy, "requirepass", "").ok());
  EXPECT_FALSE(policy.auth_required);
  EXPECT_EQ(*GetPolicyOption(policy, "requirepass"), "");
}

TEST(PolicyTest, UserRules) {
  auto user = ParseUserRules({"bob"});
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(user->enabled) << "a new user starts off, as in Redis";
  EXPECT_TRUE(user->password_sha256.empty());

  user = ParseUserRules({"bob", "on", ">one", ">two", "<one", "~*", "&*", "+@all", "allkeys",
                         "allchannels", "allcommands"});
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_TRUE(user->enabled);
  ASSERT_EQ(user->password_sha256.size(), 1u);
  EXPECT_EQ(user->password_sha256[0], Sha256Hex("two"));

  std::string hash = Sha256Hex("three");
  user = ParseUserRules({"bob", "on", "#" + hash, "nopass"});
  ASSERT_TRUE(user.ok());
  EXPECT_TRUE(user->nopass);
  EXPECT_TRUE(user->password_sha256.empty());
  user = ParseUserRules({"bob", "nopass", "#" + hash});
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(user->nopass) << "a password after nopass clears it";
  user = ParseUserRules({"bob", "on", ">x", "reset"});
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(user->enabled);
  EXPECT_TRUE(user->password_sha256.empty());

  EXPECT_FALSE(ParseUserRules({}).ok());
  EXPECT_FALSE(ParseUserRules({"bob", "#1234"}).ok());
  absl::StatusOr<ClientUser> limited = ParseUserRules({"bob", "on", "~cache:*", "+get"});
  ASSERT_TRUE(limited.ok()) << limited.status();
  EXPECT_EQ(AclPermissionText(limited->permissions), "resetkeys ~cache:* resetchannels -@all +get");
  absl::StatusOr<ClientUser> selector = ParseUserRules({"bob", "on", "(~x +get)"});
  ASSERT_FALSE(selector.ok());
  EXPECT_NE(selector.status().message().find("selectors are not supported"), std::string::npos);
}

// Compiled ACLs: null for users with every permission (the request path tests one pointer).
TEST(PolicyTest, FinishPolicyCompilesRestrictedUsersOnly) {
  ProxyOptions options;
  options.requirepass = "pw";
  auto reader = ParseUserRules({"reader", "on", "nopass", "+@read", "~r:*"});
  auto admin = ParseUserRules({"admin", "on", "nopass", "allcommands", "allkeys", "allchannels"});
  ASSERT_TRUE(reader.ok() && admin.ok());
  options.users = {*reader, *admin};
  ProxyPolicy policy = PolicyFromOptions(options);
  ASSERT_NE(policy.FindUser("reader"), nullptr);
  EXPECT_NE(policy.FindUser("reader")->acl, nullptr);
  EXPECT_EQ(policy.FindUser("admin")->acl, nullptr);
  ASSERT_NE(policy.FindUser("default"), nullptr) << "requirepass adds the default user";
  EXPECT_EQ(policy.FindUser("default")->acl, nullptr) << "who may run everything";
}

}  // namespace
}  // namespace slotplane::dataplane
