#pragma once

#include <string>

#include "absl/status/status.h"
#include "slotplane/v1/admin.pb.h"
#include "slotplane/v1/config.pb.h"

// The client users of a Policy: what the admin API's user calls do to it. Passwords arrive in
// clear text (UserSpec) and are kept only as salted SHA-256 digests with a random salt per user
// (common/password_digest.h); nothing here returns or logs a password, a salt or a digest.
namespace slotplane::control {

// The most users a fleet may have. Every user travels to every proxy in each snapshot: at most
// 32 passwords of 64 hex digits and a 128-byte name each, 10,000 users stay far below the
// snapshot limit (common/grpc_limits.h), which the state checks as a whole anyway.
inline constexpr int kMaxUsers = 10000;

// Adds a user; AlreadyExists when the name is taken, ResourceExhausted when the fleet has
// kMaxUsers users. InvalidArgument for a bad spec (empty name, a name with spaces or control
// characters or longer than 128 bytes, an empty password or one longer than 4096 bytes, more
// than 32 passwords).
absl::Status AddUser(v1::Policy* policy, const v1::UserSpec& spec);

// Changes an existing user (NotFound otherwise): `enabled` and `nopass` are set as given;
// `passwords`, when any are given, replace the old ones, else the old ones stay.
absl::Status UpdateUser(v1::Policy* policy, const v1::UserSpec& spec);

// NotFound when there is no such user.
absl::Status RemoveUser(v1::Policy* policy, const std::string& name);

// The user without secrets (ListUsers, UserResponse).
v1::UserInfo UserInfoOf(const v1::ClientUser& user);

// Salts the unsalted SHA-256 digests a store written before salting holds (password_sha256):
// each such user gets a salt and the salted digests of the same passwords, and loses the
// unsalted ones. Returns how many users changed.
int SaltLegacyPasswords(v1::Policy* policy);

// The user named `name`, or null.
const v1::ClientUser* FindUser(const v1::Policy& policy, const std::string& name);

}  // namespace slotplane::control
