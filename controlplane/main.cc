// slotplane-control: the control plane of a slotplane fleet.

#include <memory>

#include "common/daemon.h"
#include "common/fleet_options.h"
#include "controlplane/control_server.h"
#include "controlplane/options.h"
#include "dataplane/command/acl_catalog.h"

int main(int argc, char** argv) {
  using slotplane::control::ControlOptions;
  // failover-resend-commands names commands: checked against the proxies' command table.
  slotplane::SetFleetCommandCatalog(&slotplane::dataplane::CommandTableAclCatalog());
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
