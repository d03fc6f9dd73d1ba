// slotplane-proxy: a RESP proxy in front of a Redis Cluster.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "common/logging.h"
#include "dataplane/core/proxy_config.h"
#include "dataplane/proxy.h"

namespace {

using slotplane::dataplane::ProxyOptions;

// Classic double-fork-free daemonize: fork, setsid, stdio to /dev/null.
bool Daemonize() {
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid > 0) _exit(0);
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) close(null);
  }
  return true;
}

bool ApplyProcessOptions(const ProxyOptions& options) {
  slotplane::SetLogLevel(options.log_level);
  if (!options.logfile.empty() && !slotplane::SetLogFile(options.logfile)) {
    std::fprintf(stderr, "slotplane-proxy: cannot open logfile '%s': %s\n", options.logfile.c_str(),
                 std::strerror(errno));
    return false;
  }
  if (options.daemonize && !Daemonize()) {
    std::fprintf(stderr, "slotplane-proxy: cannot daemonize: %s\n", std::strerror(errno));
    return false;
  }
  if (!options.pidfile.empty()) {
    std::ofstream pidfile(options.pidfile);
    pidfile << getpid() << "\n";
  }
  return true;
}

// Blocks the stop signals in every thread (threads inherit the mask) so the main thread alone
// receives them with sigwait.
sigset_t BlockStopSignals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = slotplane::dataplane::ParseCommandLine(argc, argv);
  if (!options.ok()) {
    if (absl::IsCancelled(options.status())) {
      std::fputs(std::string(options.status().message()).c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "slotplane-proxy: %s\n%s", std::string(options.status().message()).c_str(),
                 "Run 'slotplane-proxy --help' for usage.\n");
    return 1;
  }
  if (!ApplyProcessOptions(*options)) return 1;
  sigset_t stop_signals = BlockStopSignals();

  slotplane::dataplane::Proxy proxy(*options);
  proxy.context().request_shutdown = [] { kill(getpid(), SIGTERM); };
  if (absl::Status s = proxy.Start(); !s.ok()) {
    SP_LOG(kError) << "cannot start: " << s.message();
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  SP_LOG(kInfo) << "received " << strsignal(signal_number) << ", shutting down";
  proxy.Stop();
  if (!options->pidfile.empty()) unlink(options->pidfile.c_str());
  SP_LOG(kInfo) << "bye";
  return 0;
}
