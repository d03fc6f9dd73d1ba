#include "controlplane/policy/policy_options.h"

#include <gtest/gtest.h>

namespace slotplane::control {
namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(PolicyOptionsTest, DefaultsMatchRedisClusterProxy) {
  const auto values = PolicyOptionValues(DefaultPolicy());
  EXPECT_EQ(values.at("enable-cross-slot"), "no");
  EXPECT_EQ(values.at("read-policy"), "master");
  EXPECT_EQ(values.at("log-level"), "info");
  EXPECT_EQ(values.at("maxclients"), "10000");
  EXPECT_EQ(values.at("proto-max-bulk-len"), "536870912");
  EXPECT_EQ(values.at("max-multibulk-len"), "1048576");
  EXPECT_EQ(values.at("client-query-buffer-limit"), "1073741824");
  EXPECT_EQ(values.at("max-redirects"), "5");
  EXPECT_EQ(values.at("tryagain-retries"), "5");
  EXPECT_EQ(values.at("connections-pool-size"), "10");
  EXPECT_EQ(values.at("auth"), "");
  EXPECT_EQ(values.size(), PolicyOptionNames().size());
}

TEST(PolicyOptionsTest, SetsEveryKindOfOption) {
  v1::Policy policy = DefaultPolicy();
  ASSERT_TRUE(SetPolicyOption(&policy, "enable-cross-slot", "yes").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "READ-POLICY", "Prefer-Replica").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "log-level", "WARNING").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "maxclients", "500").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "proto-max-bulk-len", "2mb").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "client-query-buffer-limit", "2gb").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "tryagain-retries", "0").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "auth", "s3cret").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "auth-user", "proxy").ok());
  ASSERT_TRUE(SetPolicyOption(&policy, "dump-queries", "yes").ok());
  EXPECT_TRUE(policy.enable_cross_slot());
  EXPECT_EQ(policy.read_policy(), v1::READ_POLICY_PREFER_REPLICA);
  EXPECT_EQ(policy.log_level(), "warning");
  EXPECT_EQ(policy.limits().maxclients(), 500);
  EXPECT_EQ(policy.limits().proto_max_bulk_len(), 2 << 20);
  EXPECT_EQ(policy.limits().client_query_buffer_limit(), 2LL << 30);
  EXPECT_EQ(policy.limits().tryagain_retries(), 0);
  EXPECT_EQ(policy.backend().password(), "s3cret");
  EXPECT_EQ(policy.backend().user(), "proxy");
  EXPECT_TRUE(policy.dump_queries());
  const auto values = PolicyOptionValues(policy);
  EXPECT_EQ(values.at("auth"), "(set)") << "a secret never shows";
  EXPECT_EQ(values.at("read-policy"), "prefer-replica");
}

TEST(PolicyOptionsTest, BadValuesNameTheOption) {
  v1::Policy policy = DefaultPolicy();
  const v1::Policy before = policy;
  struct Case {
    const char* name;
    const char* value;
    const char* why;
  };
  for (const Case& c :
       {Case{"maxclients", "abc", "not an integer"},
        Case{"maxclients", "0", "between 1 and 1000000"},
        Case{"max-redirects", "101", "between 1 and 100"},
        Case{"proto-max-bulk-len", "1kb", "at least 1048576"},
        Case{"proto-max-bulk-len", "lots", "not a size"},
        Case{"enable-cross-slot", "maybe", "yes or no"},
        Case{"read-policy", "nearest", "master, prefer-master"},
        Case{"log-level", "verbose", "debug, info"}, Case{"auth-user", "a b", "space"}}) {
    absl::Status s = SetPolicyOption(&policy, c.name, c.value);
    ASSERT_FALSE(s.ok()) << c.name << " " << c.value;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(Message(s).find(std::string("option '") + c.name + "'"), std::string::npos)
        << Message(s);
    EXPECT_NE(Message(s).find(c.why), std::string::npos) << Message(s);
  }
  EXPECT_EQ(policy.SerializeAsString(), before.SerializeAsString()) << "nothing changed";
}

TEST(PolicyOptionsTest, PerProcessAndUnknownOptionsAreRefused) {
  v1::Policy policy = DefaultPolicy();
  for (const char* name : {"port", "bind", "threads", "daemonize", "metrics-port", "cluster"}) {
    absl::Status s = SetPolicyOption(&policy, name, "1");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Message(s), std::string("option '") + name +
                              "' is per proxy process and cannot be set fleet-wide");
  }
  absl::Status s = SetPolicyOption(&policy, "no-such-option", "1");
  EXPECT_EQ(Message(s), "unknown option 'no-such-option'");
  s = SetPolicyOption(&policy, std::string(100000, 'x'), "1");
  EXPECT_LT(Message(s).size(), 100u) << "a huge name is not echoed whole";
  EXPECT_FALSE(IsPolicyOption("port"));
  EXPECT_TRUE(IsPolicyOption("Enable-Cross-Slot"));
  EXPECT_TRUE(IsSecretOption("auth"));
  EXPECT_FALSE(IsSecretOption("auth-user"));
}

TEST(PolicyOptionsTest, RedactedPolicyHasNoSecrets) {
  v1::Policy policy = DefaultPolicy();
  policy.mutable_backend()->set_password("s3cret");
  policy.mutable_backend()->set_user("proxy");
  v1::ClientUser* user = policy.add_users();
  user->set_name("alice");
  user->add_password_sha256(std::string(64, 'a'));
  user->set_password_salt(std::string(32, 'b'));
  user->add_password_salted_sha256(std::string(64, 'c'));
  const v1::Policy redacted = RedactedPolicy(policy);
  EXPECT_EQ(redacted.backend().password(), "");
  EXPECT_EQ(redacted.backend().user(), "proxy");
  ASSERT_EQ(redacted.users_size(), 1);
  EXPECT_EQ(redacted.users(0).name(), "alice");
  EXPECT_EQ(redacted.users(0).password_sha256_size(), 0);
  EXPECT_EQ(redacted.users(0).password_salted_sha256_size(), 0);
  EXPECT_EQ(redacted.users(0).password_salt(), "");
  EXPECT_EQ(redacted.SerializeAsString().find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace slotplane::control
