#pragma once

#include <string>
#include <vector>

#include "common/acl_rules.h"
#include "dataplane/command/user_acl.h"

namespace slotplane::dataplane {

// A user that clients of the proxy authenticate as (AUTH [user] pass, HELLO ... AUTH). Passwords
// are kept only as SHA-256 hashes (lower-case hex), as Redis ACL does, salted per user when they
// come from the control plane. Mirrors the control
// plane's ClientUser message.
struct ClientUser {
  std::string name;
  std::vector<std::string> password_sha256;  // any of them matches
  bool enabled = true;
  bool nopass = false;  // any password is accepted
  // What the user may run (ACL rules). Full unless rules say otherwise: the implicit default
  // user, `requirepass`, and control-plane users added without rules. A `user` option starts
  // from none, as Redis's `user` lines do.
  AclPermissions permissions = AclPermissions::Full();
  // `permissions` compiled by FinishPolicy (dataplane/core/policy.h); null when the user may
  // run everything, so the request path tests one pointer.
  UserAclPtr acl = nullptr;
  // Non-empty (users from the control plane): password_sha256 holds salted digests,
  // hex(SHA-256(salt || hex(SHA-256(password)))) (common/password_digest.h).
  std::string password_salt = {};  // (an initializer: aggregates may leave it out)
};

}  // namespace slotplane::dataplane
