#include "dataplane/session/client_auth.h"

#include "common/password_digest.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

// A user with every permission.
ClientUser User(std::string name, std::vector<std::string> hashes, bool enabled, bool nopass) {
  ClientUser user;
  user.name = std::move(name);
  user.password_sha256 = std::move(hashes);
  user.enabled = enabled;
  user.nopass = nopass;
  return user;
}

ProxyPolicy WithUsers(std::vector<ClientUser> users) {
  ProxyPolicy policy;
  policy.users = std::move(users);
  FinishPolicy(&policy);
  return policy;
}

TEST(ClientAuthTest, WithoutUsersOnlyTheDefaultUserExists) {
  ProxyPolicy policy;
  EXPECT_TRUE(CheckCredentials(policy, "default", "anything"));
  EXPECT_FALSE(CheckCredentials(policy, "alice", "anything"));
}

TEST(ClientAuthTest, PasswordsUsersAndFlags) {
  ProxyPolicy policy = WithUsers({
      User("default", {Sha256Hex("main")}, true, false),
      User("alice", {Sha256Hex("old"), Sha256Hex("new")}, true, false),
      User("bob", {Sha256Hex("pw")}, false, false),
      User("guest", {}, true, true),
  });
  EXPECT_TRUE(policy.auth_required);
  EXPECT_TRUE(CheckCredentials(policy, "default", "main"));
  EXPECT_FALSE(CheckCredentials(policy, "default", "Main"));
  EXPECT_TRUE(CheckCredentials(policy, "alice", "old")) << "any of the passwords";
  EXPECT_TRUE(CheckCredentials(policy, "alice", "new"));
  EXPECT_FALSE(CheckCredentials(policy, "alice", "main"));
  EXPECT_FALSE(CheckCredentials(policy, "bob", "pw")) << "disabled";
  EXPECT_TRUE(CheckCredentials(policy, "guest", "whatever")) << "nopass";
  EXPECT_FALSE(CheckCredentials(policy, "nobody", "main"));
  EXPECT_FALSE(CheckCredentials(policy, "", ""));
}

TEST(ClientAuthTest, SaltedDigestsFromTheControlPlane) {
  const std::string salt = "00112233445566778899aabbccddeeff";
  ClientUser alice = User("alice", {SaltedPasswordDigest(salt, "pw")}, true, false);
  alice.password_salt = salt;
  ProxyPolicy policy = WithUsers({alice});
  EXPECT_TRUE(CheckCredentials(policy, "alice", "pw"));
  EXPECT_FALSE(CheckCredentials(policy, "alice", "Pw"));
  alice.password_sha256 = {Sha256Hex("pw")};  // an unsalted digest under a salt never matches
  EXPECT_FALSE(CheckCredentials(WithUsers({alice}), "alice", "pw"));
}

TEST(ClientAuthTest, AUserWithNoPasswordCannotLogIn) {
  ProxyPolicy policy = WithUsers({User("carol", {}, true, false)});
  EXPECT_FALSE(CheckCredentials(policy, "carol", ""));
  EXPECT_FALSE(CheckCredentials(policy, "default", "")) << "no default user in the list";
}

}  // namespace
}  // namespace slotplane::dataplane
