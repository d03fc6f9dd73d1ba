#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"

// The ACL permission rules of a client user, as the admin API takes them (UserSpec.rules) and the
// policy keeps them (ClientUser.acl_rules): validated with Redis 7.0's wording against the same
// command table the proxies use, and stored in canonical form.
namespace slotplane::control {

// The canonical rules for `rules` applied from nothing (common/acl_rules.h): empty when they grant
// every command, key and channel, and for no rules at all (a user given no rules keeps every
// permission, as users had before rules existed). InvalidArgument with Redis's message ("Error in
// ACL SETUSER modifier '+nope': Unknown command or category name in ACL") for a bad rule, and for a
// rule that is not a permission rule (passwords and on/off have their own fields).
absl::StatusOr<std::vector<std::string>> CanonicalAclRules(
    const google::protobuf::RepeatedPtrField<std::string>& rules);

}  // namespace slotplane::control
