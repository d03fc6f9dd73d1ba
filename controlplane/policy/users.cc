#include "controlplane/policy/users.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/password_digest.h"
#include "controlplane/policy/user_rules.h"

namespace slotplane::control {
namespace {

constexpr size_t kMaxNameBytes = 128;
constexpr int kMaxPasswords = 32;
constexpr size_t kMaxPasswordBytes = 4096;

absl::Status ValidateSpec(const v1::UserSpec& spec) {
  if (spec.name().empty()) return absl::InvalidArgumentError("a user needs a name");
  if (spec.name().size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("user name is longer than ", kMaxNameBytes, " bytes"));
  }
  const bool bad_char = std::any_of(spec.name().begin(), spec.name().end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == 0x7f;
  });
  if (bad_char) {
    return absl::InvalidArgumentError(
        absl::StrCat("user name '", spec.name(), "' contains a space or a control character"));
  }
  if (spec.passwords_size() > kMaxPasswords) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxPasswords, " passwords per user"));
  }
  for (const std::string& password : spec.passwords()) {
    if (password.empty()) return absl::InvalidArgumentError("a password must not be empty");
    if (password.size() > kMaxPasswordBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("a password is longer than ", kMaxPasswordBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

v1::ClientUser* FindMutableUser(v1::Policy* policy, const std::string& name) {
  for (v1::ClientUser& user : *policy->mutable_users()) {
    if (user.name() == name) return &user;
  }
  return nullptr;
}

void SetAclRules(const std::vector<std::string>& rules, v1::ClientUser* user) {
  user->clear_acl_rules();
  for (const std::string& rule : rules) user->add_acl_rules(rule);
}

// A new salt and the passwords' salted digests (duplicates collapse).
void SetPasswords(const v1::UserSpec& spec, v1::ClientUser* user) {
  user->clear_password_sha256();
  user->clear_password_salted_sha256();
  user->set_password_salt(NewPasswordSalt());
  for (const std::string& password : spec.passwords()) {
    const std::string digest = SaltedPasswordDigest(user->password_salt(), password);
    const auto& existing = user->password_salted_sha256();
    if (std::find(existing.begin(), existing.end(), digest) == existing.end()) {
      user->add_password_salted_sha256(digest);
    }
  }
}

}  // namespace

absl::Status AddUser(v1::Policy* policy, const v1::UserSpec& spec) {
  if (absl::Status s = ValidateSpec(spec); !s.ok()) return s;
  auto rules = CanonicalAclRules(spec.rules());
  if (!rules.ok()) return rules.status();
  if (FindUser(*policy, spec.name()) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrCat("user '", spec.name(), "' exists (change it with UpdateUser)"));
  }
  if (policy->users_size() >= kMaxUsers) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the fleet has ", policy->users_size(), " users, the most it may have (", kMaxUsers,
        "): every user travels to every proxy in each snapshot; remove "
        "a user first"));
  }
  v1::ClientUser* user = policy->add_users();
  user->set_name(spec.name());
  user->set_enabled(spec.enabled());
  user->set_nopass(spec.nopass());
  SetPasswords(spec, user);
  SetAclRules(*rules, user);
  return absl::OkStatus();
}

absl::Status UpdateUser(v1::Policy* policy, const v1::UserSpec& spec) {
  if (absl::Status s = ValidateSpec(spec); !s.ok()) return s;
  v1::ClientUser* user = FindMutableUser(policy, spec.name());
  if (user == nullptr) {
    return absl::NotFoundError(absl::StrCat("no user '", spec.name(), "'"));
  }
  if (spec.set_rules()) {
    auto rules = CanonicalAclRules(spec.rules());
    if (!rules.ok()) return rules.status();
    SetAclRules(*rules, user);
  }
  user->set_enabled(spec.enabled());
  user->set_nopass(spec.nopass());
  if (spec.passwords_size() > 0) SetPasswords(spec, user);
  return absl::OkStatus();
}

absl::Status RemoveUser(v1::Policy* policy, const std::string& name) {
  auto* users = policy->mutable_users();
  for (int i = 0; i < users->size(); ++i) {
    if (users->Get(i).name() == name) {
      users->erase(users->begin() + i);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("no user '", name, "'"));
}

v1::UserInfo UserInfoOf(const v1::ClientUser& user) {
  v1::UserInfo info;
  info.set_name(user.name());
  info.set_enabled(user.enabled());
  info.set_nopass(user.nopass());
  info.set_password_count(user.password_salted_sha256_size() + user.password_sha256_size());
  *info.mutable_rules() = user.acl_rules();
  return info;
}

int SaltLegacyPasswords(v1::Policy* policy) {
  int salted = 0;
  for (v1::ClientUser& user : *policy->mutable_users()) {
    if (user.password_sha256_size() == 0) continue;
    if (user.password_salt().empty()) user.set_password_salt(NewPasswordSalt());
    for (const std::string& unsalted : user.password_sha256()) {
      user.add_password_salted_sha256(SaltedDigestOfSha256(user.password_salt(), unsalted));
    }
    user.clear_password_sha256();
    ++salted;
  }
  return salted;
}

const v1::ClientUser* FindUser(const v1::Policy& policy, const std::string& name) {
  for (const v1::ClientUser& user : policy.users()) {
    if (user.name() == name) return &user;
  }
  return nullptr;
}

}  // namespace slotplane::control
