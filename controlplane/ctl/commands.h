#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "controlplane/ctl/admin_client.h"
#include "controlplane/ctl/ctl_args.h"

namespace slotplane::ctl {

// Runs the command named by args.words and returns slotplanectl's exit code. Output goes to
// stdout (a table or, with --json, one JSON document); errors to stderr.
int RunCommand(const CtlArgs& args);

// What each command gets.
struct CommandEnv {
  const CtlArgs& args;
  AdminClient& client;
  absl::Duration timeout;  // per call
};

// One family of commands each (commands_fleet.cc, commands_config.cc).
int RunStatus(const CommandEnv& env);
int RunProxies(const CommandEnv& env);
int RunTopology(const CommandEnv& env);
int RunRefresh(const CommandEnv& env);
int RunWait(const CommandEnv& env);
int RunConfig(const CommandEnv& env);
int RunUsers(const CommandEnv& env);

// "slotplanectl: <message>" on stderr; returns kExitUsage.
int UsageError(const std::string& message);

}  // namespace slotplane::ctl
