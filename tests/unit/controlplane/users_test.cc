#include "controlplane/policy/users.h"

#include <gtest/gtest.h>

#include "common/password_digest.h"
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
  ASSERT_EQ(user.password_salted_sha256_size(), 2) << "duplicates collapse";
  EXPECT_EQ(user.password_sha256_size(), 0) << "no unsalted digest";
  EXPECT_TRUE(IsPasswordSalt(user.password_salt()));
  EXPECT_EQ(user.password_salted_sha256(0), SaltedPasswordDigest(user.password_salt(), "pw1"));
  EXPECT_NE(user.password_salted_sha256(0), Sha256Hex("pw1"));
  EXPECT_EQ(policy.SerializeAsString().find("pw1"), std::string::npos);
  EXPECT_EQ(policy.SerializeAsString().find(Sha256Hex("pw1")), std::string::npos);
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
  const std::string old_salt = policy.users(0).password_salt();
  ASSERT_EQ(policy.users(0).password_salted_sha256_size(), 1);
  EXPECT_EQ(policy.users(0).password_salted_sha256(0), SaltedPasswordDigest(old_salt, "old"));
  ASSERT_TRUE(UpdateUser(&policy, Spec("bob", {"new"}, true, true)).ok());
  EXPECT_TRUE(policy.users(0).nopass());
  EXPECT_NE(policy.users(0).password_salt(), old_salt) << "new passwords, new salt";
  ASSERT_EQ(policy.users(0).password_salted_sha256_size(), 1);
  EXPECT_EQ(policy.users(0).password_salted_sha256(0),
            SaltedPasswordDigest(policy.users(0).password_salt(), "new"));
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
  EXPECT_EQ(AddUser(&policy, Spec("a", {std::string(4097, 'p')})).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.users_size(), 0);
}

TEST(UsersTest, SaltsDifferPerUser) {
  v1::Policy policy;
  ASSERT_TRUE(AddUser(&policy, Spec("a", {"same"})).ok());
  ASSERT_TRUE(AddUser(&policy, Spec("b", {"same"})).ok());
  EXPECT_NE(policy.users(0).password_salt(), policy.users(1).password_salt());
  EXPECT_NE(policy.users(0).password_salted_sha256(0), policy.users(1).password_salted_sha256(0))
      << "equal passwords do not give equal digests";
}

TEST(UsersTest, CapOnUsers) {
  v1::Policy policy;
  for (int i = 0; i < kMaxUsers; ++i) policy.add_users()->set_name("u" + std::to_string(i));
  absl::Status full = AddUser(&policy, Spec("one-more", {"p"}));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(full.message()).find("the most it may have (10000)"), std::string::npos)
      << full.message();
  EXPECT_EQ(policy.users_size(), kMaxUsers);
  ASSERT_TRUE(RemoveUser(&policy, "u0").ok());
  EXPECT_TRUE(AddUser(&policy, Spec("one-more", {"p"})).ok());
}

TEST(UsersTest, SaltsLegacyDigests) {
  v1::Policy policy;
  v1::ClientUser* old = policy.add_users();  // as a store of an older control plane holds it
  old->set_name("old");
  old->set_enabled(true);
  old->add_password_sha256(Sha256Hex("p1"));
  old->add_password_sha256(Sha256Hex("p2"));
  ASSERT_TRUE(AddUser(&policy, Spec("new", {"p3"})).ok());
  const std::string new_digest = policy.users(1).password_salted_sha256(0);

  EXPECT_EQ(SaltLegacyPasswords(&policy), 1);
  const v1::ClientUser& salted = policy.users(0);
  EXPECT_EQ(salted.password_sha256_size(), 0);
  EXPECT_TRUE(IsPasswordSalt(salted.password_salt()));
  ASSERT_EQ(salted.password_salted_sha256_size(), 2);
  EXPECT_EQ(salted.password_salted_sha256(0), SaltedPasswordDigest(salted.password_salt(), "p1"))
      << "the same password still matches";
  EXPECT_EQ(salted.password_salted_sha256(1), SaltedPasswordDigest(salted.password_salt(), "p2"));
  EXPECT_EQ(UserInfoOf(salted).password_count(), 2);
  EXPECT_EQ(policy.users(1).password_salted_sha256(0), new_digest) << "salted users stay";
  EXPECT_EQ(SaltLegacyPasswords(&policy), 0) << "idempotent";
}

}  // namespace
}  // namespace slotplane::control
