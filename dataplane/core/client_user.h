#pragma once

#include <string>
#include <vector>

namespace slotplane::dataplane {

// A user that clients of the proxy authenticate as (AUTH [user] pass, HELLO ... AUTH). Passwords
// are kept only as SHA-256 hashes (lower-case hex), as Redis ACL does. Mirrors the control
// plane's ClientUser message.
struct ClientUser {
  std::string name;
  std::vector<std::string> password_sha256;  // any of them matches
  bool enabled = true;
  bool nopass = false;  // any password is accepted
};

}  // namespace slotplane::dataplane
