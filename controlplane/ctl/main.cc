// slotplanectl: the admin CLI of slotplane-control.

#include <cstdio>
#include <string>

#include "controlplane/ctl/commands.h"
#include "controlplane/ctl/ctl_args.h"
#include "grpc/grpc.h"

int main(int argc, char** argv) {
  auto args = slotplane::ctl::ParseCtlArgs(argc, argv);
  if (!args.ok()) {
    if (absl::IsCancelled(args.status())) {
      std::fputs(std::string(args.status().message()).c_str(), stdout);
      return slotplane::ctl::kExitOk;
    }
    return slotplane::ctl::UsageError(std::string(args.status().message()));
  }
  // gRPC's own shutdown is asynchronous: without a blocking one at the end, TLS state a
  // background thread still holds may outlive main (and show up as a leak under sanitizers).
  grpc_init();
  const int exit_code = slotplane::ctl::RunCommand(*args);
  grpc_shutdown_blocking();
  return exit_code;
}
