#include "tests/integration/control_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace slotplane::integration {
namespace {

constexpr int kMaxPortAttempts = 5;
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);

std::string Binary(const char* name) { return absl::StrCat(SLOTPLANE_BIN_DIR, "/", name); }

}  // namespace

absl::StatusOr<std::unique_ptr<ControlProcess>> ControlProcess::Start(
    const ControlOptions& options) {
  for (const char* name : {"slotplane-control", "slotplanectl"}) {
    if (::access(Binary(name).c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(Binary(name), " is missing: build the ", name, " target first"));
    }
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("slotplane-control");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<ControlProcess> control(new ControlProcess(options, *std::move(dir)));
  if (!options.admin_token.empty()) {
    control->token_file_ = control->dir_.File("admin.token");
    std::ofstream(control->token_file_) << options.admin_token << "\n";
  }
  if (!options.proxy_token.empty()) {
    control->proxy_token_file_ = control->dir_.File("proxy.token");
    std::ofstream(control->proxy_token_file_) << options.proxy_token << "\n";
  }
  const absl::Time deadline = absl::Now() + options.start_timeout;
  absl::Status status;
  for (int attempt = 0; attempt < kMaxPortAttempts; ++attempt) {
    absl::StatusOr<uint16_t> port = PickFreePort(/*with_cluster_bus=*/false);
    if (!port.ok()) return port.status();
    control->port_ = *port;
    status = control->Launch(deadline);
    if (status.ok()) return control;
    // Another process took the port between PickFreePort() and the bind: retry on another.
    if (control->IsAlive() || !absl::StrContains(control->LogText(), "cannot listen")) break;
  }
  control->stopped_ = true;
  return status;
}

std::string ControlProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status ControlProcess::Launch(absl::Time deadline) {
  log_path_ = dir_.File(absl::StrCat("control-", port_, ".log"));
  SpawnOptions spawn;
  spawn.argv = {Binary("slotplane-control"),
                "--listen",
                address(),
                options_.store.empty() ? "--data-dir" : "--store",
                options_.store.empty() ? dir_.File("data") : options_.store,
                "--poll-interval",
                absl::StrCat(options_.poll_interval_ms),
                "--log-level",
                options_.log_level};
  for (const NodeAddress& seed : options_.cluster) {
    spawn.argv.insert(spawn.argv.end(), {"--cluster", seed.ToString()});
  }
  if (!token_file_.empty())
    spawn.argv.insert(spawn.argv.end(), {"--admin-token-file", token_file_});
  if (!proxy_token_file_.empty())
    spawn.argv.insert(spawn.argv.end(), {"--proxy-token-file", proxy_token_file_});
  spawn.argv.insert(spawn.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  spawn.output_path = log_path_;
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(spawn);
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  stopped_ = false;
  return WaitUntilAnswering(deadline);
}

absl::Status ControlProcess::WaitUntilAnswering(absl::Time deadline) {
  std::string last = "not tried";
  while (true) {
    if (!process_->IsRunning()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "slotplane-control exited during start-up with ",
          DescribeWaitStatus(*process_->wait_status()), "; log:\n", LastLines(LogText(), 50)));
    }
    absl::StatusOr<CommandResult> status = Ctl({"status"}, absl::Seconds(5));
    if (status.ok() && status->Succeeded()) return absl::OkStatus();
    last = status.ok() ? status->output : std::string(status.status().message());
    if (absl::Now() > deadline) break;
    absl::SleepFor(kPollInterval);
  }
  process_->Kill();
  return absl::DeadlineExceededError(absl::StrCat("slotplane-control on ", address(),
                                                  " does not answer (last: ", last, "); log:\n",
                                                  LastLines(LogText(), 50)));
}

ControlProcess::~ControlProcess() {
  if (process_ == nullptr || stopped_) return;
  if (!process_->IsRunning()) {
    stopped_ = true;
    ADD_FAILURE() << "slotplane-control (pid " << pid()
                  << ") died during the test: " << DescribeWaitStatus(*process_->wait_status());
    PrintLog();
    return;
  }
  const absl::Status stop = Stop();
  EXPECT_TRUE(stop.ok()) << stop;
  if (!stop.ok() || ::testing::Test::HasFailure()) PrintLog();
}

absl::Status ControlProcess::Stop() {
  if (stopped_ || process_ == nullptr) return absl::OkStatus();
  stopped_ = true;
  const int status = process_->Terminate(options_.stop_timeout);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("slotplane-control did not stop cleanly on SIGTERM: ",
                                          DescribeWaitStatus(status)));
}

void ControlProcess::Kill() {
  if (process_ == nullptr) return;
  stopped_ = true;
  process_->Kill();
}

absl::Status ControlProcess::Restart() {
  if (IsAlive()) return absl::FailedPreconditionError("slotplane-control is still running");
  return Launch(absl::Now() + options_.start_timeout);
}

absl::Status ControlProcess::RestartOn(uint16_t port) {
  if (IsAlive()) return absl::FailedPreconditionError("slotplane-control is still running");
  port_ = port;
  return Launch(absl::Now() + options_.start_timeout);
}

void ControlProcess::PrintLog(size_t max_lines) const {
  const std::string log = LogText();
  std::cerr << "---- slotplane-control log (" << address() << "), last " << max_lines
            << " lines ----\n"
            << (log.empty() ? "(empty)" : LastLines(log, max_lines))
            << "\n---- end of slotplane-control log ----\n";
}

absl::StatusOr<CommandResult> ControlProcess::Ctl(const std::vector<std::string>& args,
                                                  absl::Duration timeout) const {
  std::vector<std::string> argv = {Binary("slotplanectl"), "--addr", address()};
  if (!token_file_.empty()) argv.insert(argv.end(), {"--token-file", token_file_});
  argv.insert(argv.end(), options_.ctl_args.begin(), options_.ctl_args.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir_.path(), timeout);
}

}  // namespace slotplane::integration
