#include "controlplane/policy/user_rules.h"

#include "absl/strings/str_cat.h"
#include "common/acl_rules.h"
#include "dataplane/command/acl_catalog.h"

namespace slotplane::control {

absl::StatusOr<std::vector<std::string>> CanonicalAclRules(
    const google::protobuf::RepeatedPtrField<std::string>& rules) {
  if (rules.empty()) return std::vector<std::string>();  // no rules: every permission
  AclPermissions permissions;
  for (const std::string& rule : rules) {
    absl::Status s =
        ApplyAclPermissionRule(&permissions, rule, &dataplane::CommandTableAclCatalog());
    if (absl::IsNotFound(s)) {
      return absl::InvalidArgumentError(absl::StrCat(
          AclRuleError(rule, "Syntax error"),
          " (passwords, nopass and on/off are not rules here: they have their own fields)"));
    }
    if (!s.ok()) return s;
  }
  if (permissions.IsFull()) return std::vector<std::string>();
  return AclPermissionRules(permissions);
}

}  // namespace slotplane::control
