#include "controlplane/ctl/commands.h"

#include <cstdio>
#include <functional>
#include <map>

namespace slotplane::ctl {
namespace {

constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);

}  // namespace

int UsageError(const std::string& message) {
  std::fprintf(stderr, "slotplanectl: %s\nRun 'slotplanectl --help' for usage.\n", message.c_str());
  return kExitUsage;
}

int RunCommand(const CtlArgs& args) {
  static const std::map<std::string, std::function<int(const CommandEnv&)>> kCommands = {
      {"status", RunStatus},   {"proxies", RunProxies}, {"topology", RunTopology},
      {"refresh", RunRefresh}, {"wait", RunWait},       {"config", RunConfig},
      {"users", RunUsers},
  };
  auto command = kCommands.find(args.words[0]);
  if (command == kCommands.end()) return UsageError("unknown command '" + args.words[0] + "'");
  auto client = AdminClient::Create(args);
  if (!client.ok()) return UsageError(std::string(client.status().message()));
  const CommandEnv env{args, **client, args.timeout.value_or(kDefaultTimeout)};
  return command->second(env);
}

}  // namespace slotplane::ctl
