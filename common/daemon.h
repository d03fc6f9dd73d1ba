#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/logging.h"

// What the main() of every slotplane daemon (slotplane-proxy, slotplane-control) does around its
// service: report the command line's outcome, set up logging, daemonize, write the pidfile,
// route the stop signals to one waiting thread, and shut down in order.
namespace slotplane {

// The per-process options every daemon has.
struct ProcessOptions {
  LogLevel log_level = LogLevel::kInfo;
  std::string logfile;  // empty: stderr
  std::string pidfile;  // empty: none
  bool daemonize = false;
};

// What a daemon runs. Created after the set-up (so after daemonize, and with SIGTERM and SIGINT
// blocked: threads it starts inherit that mask and leave the stop signals to RunDaemon), started,
// stopped after a stop signal (only when Start succeeded), destroyed last.
class Service {
 public:
  virtual ~Service() = default;
  // Fails with a message for the operator (a port in use, bad TLS files, ...).
  virtual absl::Status Start() = 0;
  virtual void Stop() = 0;
  // SIGHUP: read files that may change at runtime again (TLS certificates). Called from the
  // waiting thread while the service runs. Default: nothing.
  virtual void Reload() {}
};

// main()'s exit code when parsing the command line gave `status` instead of options: Cancelled
// carries the --help or --version text, printed on stdout (0); anything else is an error,
// printed on stderr with a pointer to --help (1).
int ReportCommandLine(std::string_view program, const absl::Status& status);

// A daemon's life: sets the log level and log file, daemonizes (fork, setsid, stdio to
// /dev/null), writes the pidfile, ignores SIGPIPE and blocks SIGTERM, SIGINT and SIGHUP, creates
// and starts the service, waits for SIGTERM or SIGINT (or RequestStop) — SIGHUP meanwhile reopens
// the log file, for logrotate — stops and destroys it, and removes the pidfile. Returns the exit
// code: 0 after a clean stop, 1 when set-up or start failed (the reason is printed, or logged once
// logging is set up).
int RunDaemon(std::string_view program, const ProcessOptions& process,
              const std::function<std::unique_ptr<Service>()>& create);

// `--check-config` anywhere after argv[0]: the daemon only checks its options. Removes it from
// argv (shifting the rest down) and returns whether it was there.
bool TakeCheckConfigFlag(int* argc, char** argv);

// main()'s exit code for --check-config: `status` is what parsing and the offline checks gave.
// OK prints "PROGRAM: configuration OK" on stdout (0); Cancelled (--help, --version) prints its
// text (0); anything else prints the error on stderr (1).
int ReportConfigCheck(std::string_view program, const absl::Status& status);

// What a daemon's main() needs to know: how to parse its command line, what else to check
// without the network (files it reads at start: tokens, certificates), and how to make its
// service.
template <typename Options>
struct DaemonSpec {
  std::string_view program;
  std::function<absl::StatusOr<Options>(int, const char* const*)> parse;
  // Optional. Runs for --check-config and nowhere else (Start reads the same files itself).
  std::function<absl::Status(const Options&)> check_offline;
  std::function<std::unique_ptr<Service>(const Options&)> create;
  // Optional. The option table's HideSecretArguments: blanks secrets given on the command line
  // and names them, for the warning DaemonMain logs.
  std::function<std::vector<std::string>(int, char**)> hide_secrets;
};

// Logs that `option` carried a secret on the command line (hidden from the process list since,
// but visible to other local users until then, and kept in shell history).
void WarnSecretOnCommandLine(std::string_view program, std::string_view option);

// A daemon's whole main(): with --check-config, parses and checks (spec.check_offline) and
// exits (ReportConfigCheck) without opening a socket; else ReportCommandLine unless parsing gave
// options, else RunDaemon with `options->Process()` and the service spec.create makes.
template <typename Options>
int DaemonMain(int argc, char** argv, const DaemonSpec<Options>& spec) {
  const bool check_only = TakeCheckConfigFlag(&argc, argv);
  absl::StatusOr<Options> options = spec.parse(argc, argv);
  if (check_only) {
    absl::Status status = options.status();
    if (status.ok() && spec.check_offline) status = spec.check_offline(*options);
    return ReportConfigCheck(spec.program, status);
  }
  if (!options.ok()) return ReportCommandLine(spec.program, options.status());
  if (spec.hide_secrets) {
    for (const std::string& option : spec.hide_secrets(argc, argv)) {
      WarnSecretOnCommandLine(spec.program, option);
    }
  }
  return RunDaemon(spec.program, options->Process(), [&] { return spec.create(*options); });
}

// Makes RunDaemon stop the service, as SIGTERM does. Callable from any thread.
void RequestStop();

}  // namespace slotplane
