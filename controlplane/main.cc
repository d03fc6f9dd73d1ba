// slotplane-control: the control plane of a slotplane fleet.

#include <memory>

#include "common/daemon.h"
#include "controlplane/control_server.h"
#include "controlplane/options.h"

int main(int argc, char** argv) {
  using slotplane::control::ControlOptions;
  return slotplane::DaemonMain(
      "slotplane-control", slotplane::control::ParseControlCommandLine(argc, argv),
      [](const ControlOptions& options) {
        return std::make_unique<slotplane::control::ControlServer>(options);
      });
}
