// slotplanectl config get/set and users add/set/rm/ls.

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/ctl/commands.h"
#include "controlplane/ctl/json.h"
#include "controlplane/ctl/table.h"

namespace slotplane::ctl {
namespace {

void Print(const std::string& text) { std::fputs(text.c_str(), stdout); }

int PrintVersion(const CommandEnv& env, uint64_t version) {
  if (env.args.json) {
    Print(JsonObject().Add("version", version).str() + "\n");
  } else {
    Print(absl::StrCat("version ", version, "\n"));
  }
  return kExitOk;
}

int ConfigGet(const CommandEnv& env) {
  const auto& words = env.args.words;
  if (words.size() > 3) return UsageError("usage: slotplanectl config get [OPTION]");
  v1::GetConfigResponse response;
  grpc::Status s =
      env.client.stub().GetConfig(env.client.Context(env.timeout).get(), {}, &response);
  if (!s.ok()) return ReportError(s, "config get", env.client.address());
  if (words.size() == 3) {
    auto it = response.options().find(words[2]);
    if (it == response.options().end()) {
      return UsageError("no fleet-wide option '" + words[2] + "' (see 'slotplanectl config get')");
    }
    if (env.args.json) {
      Print(JsonObject()
                .Add("version", response.version())
                .Add("option", it->first)
                .Add("value", it->second)
                .str() +
            "\n");
    } else {
      Print(it->second + "\n");
    }
    return kExitOk;
  }
  const std::map<std::string, std::string> sorted(response.options().begin(),
                                                  response.options().end());
  if (env.args.json) {
    JsonObject options;
    for (const auto& [name, value] : sorted) options.Add(name, value);
    JsonArray users;
    for (const v1::ClientUser& user : response.policy().users()) users.Add(user.name());
    Print(JsonObject()
              .Add("version", response.version())
              .AddRaw("options", options.str())
              .AddRaw("users", users.str())
              .str() +
          "\n");
    return kExitOk;
  }
  Print(absl::StrCat("version ", response.version(), "\n"));
  Table table({"OPTION", "VALUE"});
  for (const auto& [name, value] : sorted) table.AddRow({name, value.empty() ? "\"\"" : value});
  Print(table.str());
  return kExitOk;
}

int ConfigSet(const CommandEnv& env) {
  const auto& words = env.args.words;
  if (words.size() < 4 || words.size() % 2 != 0) {
    return UsageError(
        "usage: slotplanectl config set OPTION VALUE [OPTION VALUE ...] [--expected-version N]");
  }
  v1::UpdatePolicyRequest request;
  for (size_t i = 2; i + 1 < words.size(); i += 2)
    (*request.mutable_options())[words[i]] = words[i + 1];
  if (auto it = env.args.flags.find("expected-version"); it != env.args.flags.end()) {
    uint64_t expected = 0;
    if (!absl::SimpleAtoi(it->second, &expected) || expected == 0) {
      return UsageError("--expected-version wants a version number > 0");
    }
    request.set_expected_version(expected);
  }
  request.set_origin("slotplanectl");
  v1::UpdatePolicyResponse response;
  grpc::Status s =
      env.client.stub().UpdatePolicy(env.client.Context(env.timeout).get(), request, &response);
  if (!s.ok()) return ReportError(s, "config set", env.client.address());
  return PrintVersion(env, response.version());
}

// Reads passwords from stdin, one per line; prompts without echo when stdin is a terminal.
std::vector<std::string> ReadPasswordsFromStdin() {
  std::vector<std::string> passwords;
  if (isatty(STDIN_FILENO)) {
    termios old_mode{};
    tcgetattr(STDIN_FILENO, &old_mode);
    termios no_echo = old_mode;
    no_echo.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &no_echo);
    std::fputs("password: ", stderr);
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
    std::fputs("\n", stderr);
    if (!line.empty()) passwords.push_back(line);
    return passwords;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) passwords.push_back(line);
  }
  return passwords;
}

// The user's ACL rules as ACL LIST shows them; none: every command, key and channel.
std::string RulesText(const v1::UserInfo& user) {
  if (user.rules_size() == 0) return "+@all ~* &*";
  return absl::StrJoin(user.rules(), " ");
}

std::string UserJson(const v1::UserInfo& user) {
  return JsonObject()
      .Add("name", user.name())
      .Add("enabled", user.enabled())
      .Add("nopass", user.nopass())
      .Add("password_count", user.password_count())
      .Add("rules", RulesText(user))
      .str();
}

absl::StatusOr<v1::UserInfo> FindUser(const CommandEnv& env, const std::string& name,
                                      grpc::Status* status) {
  v1::ListUsersResponse users;
  *status = env.client.stub().ListUsers(env.client.Context(env.timeout).get(), {}, &users);
  if (!status->ok()) return absl::UnavailableError("");
  for (const v1::UserInfo& user : users.users()) {
    if (user.name() == name) return user;
  }
  *status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no user '" + name + "'");
  return absl::NotFoundError("");
}

// users add / users set: the spec from the flags, on top of `base` (the user as it is, for set).
absl::StatusOr<v1::UserSpec> UserSpecFromFlags(const CommandEnv& env, const std::string& name,
                                               const v1::UserInfo& base) {
  const CtlArgs& args = env.args;
  if ((args.Has("enable") && args.Has("disable")) ||
      (args.Has("nopass") && args.Has("no-nopass"))) {
    return absl::InvalidArgumentError("contradicting flags");
  }
  v1::UserSpec spec;
  spec.set_name(name);
  spec.set_enabled(args.Has("disable") ? false : args.Has("enable") ? true : base.enabled());
  spec.set_nopass(args.Has("nopass") ? true : args.Has("no-nopass") ? false : base.nopass());
  auto range = args.flags.equal_range("password");
  for (auto it = range.first; it != range.second; ++it) spec.add_passwords(it->second);
  if (args.Has("password-stdin")) {
    for (const std::string& password : ReadPasswordsFromStdin()) spec.add_passwords(password);
  }
  // Words after NAME are ACL rules in Redis's syntax (ACL SETUSER): on, off, nopass and
  // >password set the fields above; the others (commands, categories, key and channel patterns)
  // go to the control plane, which checks them with Redis's wording.
  for (size_t i = 3; i < args.words.size(); ++i) {
    const std::string& rule = args.words[i];
    if (rule == "on" || rule == "off") {
      spec.set_enabled(rule == "on");
    } else if (rule == "nopass") {
      spec.set_nopass(true);
    } else if (!rule.empty() && rule[0] == '>') {
      spec.add_passwords(rule.substr(1));
    } else {
      spec.add_rules(rule);
      spec.set_set_rules(true);
    }
  }
  return spec;
}

int UsersAddOrSet(const CommandEnv& env, bool add) {
  const auto& words = env.args.words;
  if (words.size() < 3) {
    return UsageError(absl::StrCat("usage: slotplanectl users ", add ? "add" : "set",
                                   " NAME [RULE]... [--password P]... [--password-stdin] ..."));
  }
  v1::UserInfo base;
  base.set_enabled(true);
  if (!add) {
    grpc::Status status;
    auto existing = FindUser(env, words[2], &status);
    if (!existing.ok()) return ReportError(status, "users set", env.client.address());
    base = *existing;
  }
  auto spec = UserSpecFromFlags(env, words[2], base);
  if (!spec.ok()) return UsageError(std::string(spec.status().message()));
  if (add && spec->passwords_size() == 0 && !spec->nopass()) {
    return UsageError("give the user a password (--password P or --password-stdin) or --nopass");
  }
  v1::UserResponse response;
  grpc::Status s;
  if (add) {
    v1::AddUserRequest request;
    *request.mutable_user() = *spec;
    s = env.client.stub().AddUser(env.client.Context(env.timeout).get(), request, &response);
  } else {
    v1::UpdateUserRequest request;
    *request.mutable_user() = *spec;
    s = env.client.stub().UpdateUser(env.client.Context(env.timeout).get(), request, &response);
  }
  if (!s.ok()) return ReportError(s, add ? "users add" : "users set", env.client.address());
  if (env.args.json) {
    Print(JsonObject()
              .Add("version", response.version())
              .AddRaw("user", UserJson(response.user()))
              .str() +
          "\n");
    return kExitOk;
  }
  return PrintVersion(env, response.version());
}

int UsersRemove(const CommandEnv& env) {
  if (env.args.words.size() != 3) return UsageError("usage: slotplanectl users rm NAME");
  v1::RemoveUserRequest request;
  request.set_name(env.args.words[2]);
  v1::RemoveUserResponse response;
  grpc::Status s =
      env.client.stub().RemoveUser(env.client.Context(env.timeout).get(), request, &response);
  if (!s.ok()) return ReportError(s, "users rm", env.client.address());
  return PrintVersion(env, response.version());
}

int UsersList(const CommandEnv& env) {
  if (env.args.words.size() != 2) return UsageError("usage: slotplanectl users ls");
  v1::ListUsersResponse response;
  grpc::Status s =
      env.client.stub().ListUsers(env.client.Context(env.timeout).get(), {}, &response);
  if (!s.ok()) return ReportError(s, "users ls", env.client.address());
  if (env.args.json) {
    JsonArray users;
    for (const v1::UserInfo& user : response.users()) users.AddRaw(UserJson(user));
    Print(JsonObject().AddRaw("users", users.str()).str() + "\n");
    return kExitOk;
  }
  if (response.users_size() == 0) {
    Print("no users (clients need no password)\n");
    return kExitOk;
  }
  Table table({"USER", "ENABLED", "NOPASS", "PASSWORDS", "RULES"});
  for (const v1::UserInfo& user : response.users()) {
    table.AddRow({user.name(), user.enabled() ? "yes" : "no", user.nopass() ? "yes" : "no",
                  absl::StrCat(user.password_count()), RulesText(user)});
  }
  Print(table.str());
  return kExitOk;
}

}  // namespace

int RunConfig(const CommandEnv& env) {
  const auto& words = env.args.words;
  if (words.size() >= 2 && words[1] == "get") return ConfigGet(env);
  if (words.size() >= 2 && words[1] == "set") return ConfigSet(env);
  return UsageError("usage: slotplanectl config get [OPTION] | config set OPTION VALUE ...");
}

int RunUsers(const CommandEnv& env) {
  const auto& words = env.args.words;
  const std::string sub = words.size() >= 2 ? words[1] : "";
  if (sub == "add") return UsersAddOrSet(env, /*add=*/true);
  if (sub == "set") return UsersAddOrSet(env, /*add=*/false);
  if (sub == "rm") return UsersRemove(env);
  if (sub == "ls") return UsersList(env);
  return UsageError("usage: slotplanectl users add|set|rm|ls ...");
}

}  // namespace slotplane::ctl
