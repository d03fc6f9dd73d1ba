// slotplanectl: the admin CLI of slotplane-control.

#include <cstdio>
#include <string>

#include "controlplane/ctl/commands.h"
#include "controlplane/ctl/ctl_args.h"

int main(int argc, char** argv) {
  auto args = slotplane::ctl::ParseCtlArgs(argc, argv);
  if (!args.ok()) {
    if (absl::IsCancelled(args.status())) {
      std::fputs(std::string(args.status().message()).c_str(), stdout);
      return slotplane::ctl::kExitOk;
    }
    return slotplane::ctl::UsageError(std::string(args.status().message()));
  }
  return slotplane::ctl::RunCommand(*args);
}
