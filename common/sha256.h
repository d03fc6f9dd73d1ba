#pragma once

#include <string>
#include <string_view>

namespace slotplane {

// SHA-256 of `data` as 64 lower-case hex digits: how client-user passwords are stored and
// distributed (as Redis ACL does). OpenSSL's libcrypto does the hashing; never hand-rolled.
std::string Sha256Hex(std::string_view data);

// True for what Sha256Hex returns: 64 lower-case hex digits.
bool IsSha256Hex(std::string_view text);

// Compares two strings in time that depends only on their lengths, not on where they differ
// (for tokens and password hashes).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace slotplane
