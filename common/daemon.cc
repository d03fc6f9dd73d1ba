#include "common/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace slotplane {
namespace {

// Fork, setsid, stdio to /dev/null (no second fork: slotplane never opens a terminal).
bool Daemonize() {
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid > 0) _exit(0);
  setsid();
  const int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO) close(null);
  }
  return true;
}

void PrintError(std::string_view program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", std::string(program).c_str(), message.c_str());
}

bool SetUpProcess(std::string_view program, const ProcessOptions& process) {
  SetLogLevel(process.log_level);
  if (!process.logfile.empty() && !SetLogFile(process.logfile)) {
    PrintError(program, "cannot open logfile '" + process.logfile + "': " + std::strerror(errno));
    return false;
  }
  if (process.daemonize && !Daemonize()) {
    PrintError(program, std::string("cannot daemonize: ") + std::strerror(errno));
    return false;
  }
  if (!process.pidfile.empty()) {
    std::ofstream pidfile(process.pidfile);
    pidfile << getpid() << "\n";
    if (!pidfile) {
      // A daemon's stderr is /dev/null: then the log is the only place to say it.
      const std::string message = "cannot write pidfile '" + process.pidfile + "'";
      if (process.daemonize) {
        SP_LOG(kError) << message;
      } else {
        PrintError(program, message);
      }
      return false;
    }
  }
  return true;
}

// Blocks the stop signals and SIGHUP in this thread and every thread it starts later (threads
// inherit the mask), so that the waiting thread alone receives them with sigwait.
sigset_t BlockStopSignals() {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Waits for SIGTERM or SIGINT and returns it. SIGHUP in between reopens the log file (logrotate's
// `postrotate kill -HUP`), asks the service to reload what it can (TLS certificates) and keeps
// waiting.
int WaitForStopSignal(const sigset_t& signals, const ProcessOptions& process, Service* service) {
  while (true) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number != SIGHUP) return signal_number;
    if (!ReopenLogFile()) {
      SP_LOG(kWarning) << "SIGHUP: cannot reopen logfile '" << process.logfile
                       << "': " << std::strerror(errno) << "; logging to the old file";
    } else {
      SP_LOG(kInfo) << "SIGHUP: log file reopened";
    }
    service->Reload();
  }
}

}  // namespace

int ReportCommandLine(std::string_view program, const absl::Status& status) {
  if (absl::IsCancelled(status)) {
    std::fputs(std::string(status.message()).c_str(), stdout);
    return 0;
  }
  PrintError(program,
             absl::StrCat(status.message(), "\nRun '", AbslView(program), " --help' for usage."));
  return 1;
}

bool TakeCheckConfigFlag(int* argc, char** argv) {
  bool found = false;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::string_view(argv[i]) == "--check-config") {
      found = true;
      continue;
    }
    argv[kept++] = argv[i];
  }
  argv[kept] = nullptr;  // argv[argc] is null, as the program received it
  *argc = kept;
  return found;
}

int ReportConfigCheck(std::string_view program, const absl::Status& status) {
  if (absl::IsCancelled(status)) return ReportCommandLine(program, status);
  if (!status.ok()) {
    PrintError(program, absl::StrCat("configuration refused: ", status.message()));
    return 1;
  }
  std::printf("%s: configuration OK\n", std::string(program).c_str());
  return 0;
}

int RunDaemon(std::string_view program, const ProcessOptions& process,
              const std::function<std::unique_ptr<Service>()>& create) {
  if (!SetUpProcess(program, process)) return 1;
  sigset_t stop_signals = BlockStopSignals();
  std::unique_ptr<Service> service = create();
  int exit_code = 0;
  if (absl::Status s = service->Start(); !s.ok()) {
    SP_LOG(kError) << "cannot start: " << s.message();
    exit_code = 1;
  } else {
    const int signal_number = WaitForStopSignal(stop_signals, process, service.get());
    SP_LOG(kInfo) << "received " << strsignal(signal_number) << ", shutting down";
    service->Stop();
  }
  service.reset();
  if (!process.pidfile.empty()) unlink(process.pidfile.c_str());
  if (exit_code == 0) {
    SP_LOG(kInfo) << "bye";
  }
  return exit_code;
}

void WarnSecretOnCommandLine(std::string_view program, std::string_view option) {
  SP_LOG(kWarning) << program << ": option '" << option
                   << "' was given on the command line, where other local users can read it "
                      "(process list, shell history); it is hidden from the process list now. Put "
                      "it in the config file (-c) instead";
}

void RequestStop() { kill(getpid(), SIGTERM); }

}  // namespace slotplane
