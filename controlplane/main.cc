// slotplane-control: the control plane of a slotplane fleet.

#include <memory>

#include "common/daemon.h"
#include "controlplane/control_server.h"
#include "controlplane/options.h"

int main(int argc, char** argv) {
  using slotplane::control::ControlOptions;
  slotplane::DaemonSpec<ControlOptions> spec;
  spec.program = "slotplane-control";
  spec.parse = slotplane::control::ParseControlCommandLine;
  spec.check_offline = slotplane::control::CheckFiles;
  spec.create = [](const ControlOptions& options) -> std::unique_ptr<slotplane::Service> {
    return std::make_unique<slotplane::control::ControlServer>(options);
  };
  spec.hide_secrets = slotplane::control::HideSecretArguments;
  return slotplane::DaemonMain(argc, argv, spec);
}
