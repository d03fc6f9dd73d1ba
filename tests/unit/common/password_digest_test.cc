#include "common/password_digest.h"

#include <gtest/gtest.h>

#include <set>

#include "common/sha256.h"

namespace slotplane {
namespace {

TEST(PasswordDigestTest, KnownAnswer) {
  // python3: sha256((salt + sha256(b"secret").hexdigest()).encode()).hexdigest()
  const std::string salt = "00112233445566778899aabbccddeeff";
  EXPECT_EQ(SaltedPasswordDigest(salt, "secret"),
            "c4ac60bfc2c233af5acce40ac47de502234b324d4e8ce08d9f49ba932ced1c2b");
  EXPECT_EQ(SaltedDigestOfSha256(salt, Sha256Hex("secret")), SaltedPasswordDigest(salt, "secret"))
      << "salting the unsalted digest is the same (store migration)";
  EXPECT_NE(SaltedPasswordDigest("ffeeddccbbaa99887766554433221100", "secret"),
            SaltedPasswordDigest(salt, "secret"));
}

TEST(PasswordDigestTest, SaltsAreRandomHex) {
  std::set<std::string> salts;
  for (int i = 0; i < 100; ++i) {
    const std::string salt = NewPasswordSalt();
    EXPECT_TRUE(IsPasswordSalt(salt)) << salt;
    salts.insert(salt);
  }
  EXPECT_EQ(salts.size(), 100u);
  EXPECT_FALSE(IsPasswordSalt("00112233445566778899AABBCCDDEEFF")) << "lower case only";
  EXPECT_FALSE(IsPasswordSalt("0011"));
  EXPECT_FALSE(IsPasswordSalt(""));
}

}  // namespace
}  // namespace slotplane
