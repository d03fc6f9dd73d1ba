#pragma once

#include "common/acl_rules.h"

namespace slotplane::dataplane {

// The generated command table as ACL rules see it: which names are commands, containers and
// subcommands. Used by the proxy's `user` option and by the control plane, so that both refuse
// exactly the rules Redis 7.0 refuses.
const AclCommandCatalog& CommandTableAclCatalog();

}  // namespace slotplane::dataplane
