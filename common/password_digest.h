#pragma once

#include <string>
#include <string_view>

// How client-user passwords travel from slotplane-control to the proxies: salted SHA-256.
//
//   digest = hex(SHA-256(salt || hex(SHA-256(password))))
//
// with a random salt per user (16 bytes, as 32 hex digits). The inner SHA-256 is what Redis ACL
// and the proxy's local `user ... #<hash>` rules store, so an unsalted digest kept by an older
// control plane is salted without knowing the password (FileStore migration), and the proxy
// hashes a password twice per AUTH (microseconds) instead of running a slow KDF on every
// connection. Passwords of Redis ACL users are expected to be long random strings, for which a
// salted fast hash suffices; the salt makes equal passwords differ and precomputed tables useless.
namespace slotplane {

// A new random salt: 32 lower-case hex digits from OpenSSL's RAND_bytes.
std::string NewPasswordSalt();

// The salted digest of a password whose unsalted SHA-256 hex is `password_sha256`.
std::string SaltedDigestOfSha256(std::string_view salt, std::string_view password_sha256);

// The salted digest of a clear-text password.
std::string SaltedPasswordDigest(std::string_view salt, std::string_view password);

// True for what NewPasswordSalt returns: 32 lower-case hex digits.
bool IsPasswordSalt(std::string_view text);

}  // namespace slotplane
