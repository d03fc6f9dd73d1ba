#include "controlplane/policy/users.h"

#include <gtest/gtest.h>

#include "common/sha256.h"

namespace slotplane::control {
namespace {

v1::UserSpec Spec(const std::string& name, std::vector<std::string> passwords, bool enabled = true,
                  bool nopass = false) {
  v1::UserSpec spec;
  spec.set_name(name);
  for (const std::string& p : passwords) spec.add_passwords(p);
  spec.set_enabled(enabled);
  spec.set_nopass(nopass);
  return spec;
}

TEST(UsersTest, AddStoresOnlyHashes) {
  v1::Policy policy;
  ASSERT_TRUE(AddUser(&policy, Spec("alice", {"pw1", "pw2", "pw1"})).ok());
  ASSERT_EQ(policy.users_size(), 1);
  const v1::ClientUser& user = policy.users(0);
  EXPECT_TRUE(user.enabled());
  ASSERT_EQ(user.password_sha256_size(), 2) << "duplicates collapse";
  EXPECT_EQ(user.password_sha256(0), Sha256Hex("pw1"));
  EXPECT_EQ(policy.SerializeAsString().find("pw1"), std::string::npos);
  const v1::UserInfo info = UserInfoOf(user);
  EXPECT_EQ(info.password_count(), 2);
  EXPECT_EQ(info.name(), "alice");

  absl::Status again = AddUser(&policy, Spec("alice", {"x"}));
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
}

TEST(UsersTest, UpdateKeepsPasswordsUnlessGiven) {
  v1::Policy policy;
  ASSERT_TRUE(AddUser(&policy, Spec("bob", {"old"})).ok());
  ASSERT_TRUE(UpdateUser(&policy, Spec("bob", {}, /*enabled=*/false)).ok());
  EXPECT_FALSE(policy.users(0).enabled());
  ASSERT_EQ(policy.users(0).password_sha256_size(), 1);
  EXPECT_EQ(policy.users(0).password_sha256(0), Sha256Hex("old"));
  ASSERT_TRUE(UpdateUser(&policy, Spec("bob", {"new"}, true, true)).ok());
  EXPECT_TRUE(policy.users(0).nopass());
  EXPECT_EQ(policy.users(0).password_sha256(0), Sha256Hex("new"));
  EXPECT_EQ(UpdateUser(&policy, Spec("carol", {})).code(), absl::StatusCode::kNotFound);
}

TEST(UsersTest, Remove) {
  v1::Policy policy;
  ASSERT_TRUE(AddUser(&policy, Spec("a", {"1"})).ok());
  ASSERT_TRUE(AddUser(&policy, Spec("b", {"2"})).ok());
  ASSERT_TRUE(RemoveUser(&policy, "a").ok());
  ASSERT_EQ(policy.users_size(), 1);
  EXPECT_EQ(policy.users(0).name(), "b");
  EXPECT_EQ(RemoveUser(&policy, "a").code(), absl::StatusCode::kNotFound);
}

TEST(UsersTest, InvalidSpecs) {
  v1::Policy policy;
  EXPECT_EQ(AddUser(&policy, Spec("", {"x"})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddUser(&policy, Spec("a b", {"x"})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddUser(&policy, Spec("a\n", {"x"})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddUser(&policy, Spec(std::string(129, 'a'), {"x"})).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddUser(&policy, Spec("a", {""})).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddUser(&policy, Spec("a", std::vector<std::string>(33, "p"))).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.users_size(), 0);
}

}  // namespace
}  // namespace slotplane::control
