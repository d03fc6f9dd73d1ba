// slotplane-control: the control plane of a slotplane fleet.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/logging.h"
#include "controlplane/control_server.h"
#include "controlplane/options.h"
#include "grpc/grpc.h"

namespace {

// Blocks the stop signals in every thread (threads inherit the mask) so that the main thread
// alone receives them, with sigwait.
sigset_t BlockStopSignals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

bool ApplyProcessOptions(const slotplane::control::ControlOptions& options) {
  slotplane::SetLogLevel(options.log_level);
  if (!options.logfile.empty() && !slotplane::SetLogFile(options.logfile)) {
    std::fprintf(stderr, "slotplane-control: cannot open logfile '%s': %s\n",
                 options.logfile.c_str(), std::strerror(errno));
    return false;
  }
  if (!options.pidfile.empty()) {
    std::ofstream pidfile(options.pidfile);
    pidfile << getpid() << "\n";
    if (!pidfile) {
      std::fprintf(stderr, "slotplane-control: cannot write pidfile '%s'\n",
                   options.pidfile.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = slotplane::control::ParseControlCommandLine(argc, argv);
  if (!options.ok()) {
    if (absl::IsCancelled(options.status())) {
      std::fputs(std::string(options.status().message()).c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "slotplane-control: %s\nRun 'slotplane-control --help' for usage.\n",
                 std::string(options.status().message()).c_str());
    return 1;
  }
  if (!ApplyProcessOptions(*options)) return 1;
  sigset_t stop_signals = BlockStopSignals();

  // Shut gRPC down blocking at the end, so no background thread of it outlives main.
  grpc_init();
  int exit_code = 0;
  {
    slotplane::control::ControlServer server(*options);
    if (absl::Status s = server.Start(); !s.ok()) {
      SP_LOG(kError) << "cannot start: " << s.message();
      exit_code = 1;
    } else {
      int signal_number = 0;
      sigwait(&stop_signals, &signal_number);
      SP_LOG(kInfo) << "received " << strsignal(signal_number) << ", shutting down";
      server.Stop();
    }
  }
  grpc_shutdown_blocking();
  if (!options->pidfile.empty()) unlink(options->pidfile.c_str());
  if (exit_code == 0) {
    SP_LOG(kInfo) << "bye";
  }
  return exit_code;
}
