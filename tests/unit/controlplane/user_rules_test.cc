#include "controlplane/policy/user_rules.h"

#include <gtest/gtest.h>

#include "controlplane/policy/users.h"

namespace slotplane::control {
namespace {

google::protobuf::RepeatedPtrField<std::string> Rules(std::vector<std::string> rules) {
  google::protobuf::RepeatedPtrField<std::string> out;
  for (std::string& rule : rules) *out.Add() = std::move(rule);
  return out;
}

TEST(UserRulesTest, CanonicalFormAndFullAccess) {
  auto none = CanonicalAclRules(Rules({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty()) << "no rules given: every permission";
  auto full = CanonicalAclRules(Rules({"allcommands", "allkeys", "allchannels"}));
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->empty());
  auto some = CanonicalAclRules(Rules({"+@read", "-GET", "~app:*", "%R~ro:*", "&news*"}));
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(*some, (std::vector<std::string>{"resetkeys", "~app:*", "%R~ro:*", "resetchannels",
                                             "&news*", "-@all", "+@read", "-get"}));
}

TEST(UserRulesTest, BadRulesGetRedisWording) {
  auto unknown = CanonicalAclRules(Rules({"+nosuchcommand"}));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(),
            "Error in ACL SETUSER modifier '+nosuchcommand': Unknown command or category name in "
            "ACL");
  auto sub = CanonicalAclRules(Rules({"+config|nosuch"}));
  EXPECT_FALSE(sub.ok());
  auto password = CanonicalAclRules(Rules({">hunter2"}));
  ASSERT_FALSE(password.ok());
  EXPECT_EQ(std::string(password.status().message()).find("hunter2"), std::string::npos)
      << password.status();
}

TEST(UserRulesTest, AddAndUpdateKeepRules) {
  v1::Policy policy;
  v1::UserSpec spec;
  spec.set_name("reader");
  spec.set_nopass(true);
  spec.add_rules("+@read");
  spec.add_rules("~r:*");
  ASSERT_TRUE(AddUser(&policy, spec).ok());
  ASSERT_EQ(policy.users(0).acl_rules_size(), 5);
  EXPECT_EQ(UserInfoOf(policy.users(0)).rules_size(), 5);
  spec.clear_rules();
  ASSERT_TRUE(UpdateUser(&policy, spec).ok());
  EXPECT_EQ(policy.users(0).acl_rules_size(), 5) << "no set_rules: rules kept";
  spec.set_set_rules(true);
  ASSERT_TRUE(UpdateUser(&policy, spec).ok());
  EXPECT_EQ(policy.users(0).acl_rules_size(), 0) << "set_rules without rules: every permission";
  spec.add_rules("+@nosuchcategory");
  spec.set_name("other");
  EXPECT_EQ(AddUser(&policy, spec).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.users_size(), 1);
}

}  // namespace
}  // namespace slotplane::control
