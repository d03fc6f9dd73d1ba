#include "common/password_digest.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "common/sha256.h"

namespace slotplane {
namespace {

constexpr size_t kSaltBytes = 16;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string NewPasswordSalt() {
  unsigned char bytes[kSaltBytes];
  // RAND_bytes fails only when the system has no entropy source: nothing safe to do then.
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string salt(2 * kSaltBytes, '\0');
  for (size_t i = 0; i < kSaltBytes; ++i) {
    salt[2 * i] = kHex[bytes[i] >> 4];
    salt[2 * i + 1] = kHex[bytes[i] & 0x0f];
  }
  return salt;
}

std::string SaltedDigestOfSha256(std::string_view salt, std::string_view password_sha256) {
  std::string input;
  input.reserve(salt.size() + password_sha256.size());
  input.append(salt);
  input.append(password_sha256);
  return Sha256Hex(input);
}

std::string SaltedPasswordDigest(std::string_view salt, std::string_view password) {
  return SaltedDigestOfSha256(salt, Sha256Hex(password));
}

bool IsPasswordSalt(std::string_view text) {
  return text.size() == 2 * kSaltBytes && std::all_of(text.begin(), text.end(), IsLowerHex);
}

}  // namespace slotplane
