#pragma once

#include <string>

#include "absl/status/status.h"
#include "slotplane/v1/admin.pb.h"
#include "slotplane/v1/config.pb.h"

// The client users of a Policy: what the admin API's user calls do to it. Passwords arrive in
// clear text (UserSpec) and are kept only as SHA-256 hex digests, as Redis ACL does; nothing here
// returns or logs a password or a digest.
namespace slotplane::control {

// Adds a user; AlreadyExists when the name is taken. InvalidArgument for a bad spec (empty name,
// a name with spaces or control characters or longer than 128 bytes, an empty password, more
// than 32 passwords).
absl::Status AddUser(v1::Policy* policy, const v1::UserSpec& spec);

// Changes an existing user (NotFound otherwise): `enabled` and `nopass` are set as given;
// `passwords`, when any are given, replace the old ones, else the old ones stay.
absl::Status UpdateUser(v1::Policy* policy, const v1::UserSpec& spec);

// NotFound when there is no such user.
absl::Status RemoveUser(v1::Policy* policy, const std::string& name);

// The user without secrets (ListUsers, UserResponse).
v1::UserInfo UserInfoOf(const v1::ClientUser& user);

// The user named `name`, or null.
const v1::ClientUser* FindUser(const v1::Policy& policy, const std::string& name);

}  // namespace slotplane::control
