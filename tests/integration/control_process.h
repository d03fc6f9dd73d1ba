#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cluster_view.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {

struct ControlOptions {
  // Entry points, passed as one --cluster HOST:PORT each.
  std::vector<NodeAddress> cluster;
  // Written to a token file (--admin-token-file) when non-empty; proxies and slotplanectl get the
  // same file.
  std::string admin_token;
  // The watch stream's credential, written to a file (--proxy-token-file) when non-empty; fleet
  // proxies get the same file (--control-plane-proxy-token-file). Empty: only for a control
  // plane that identifies proxies by client certificate (--tls-client-ca in extra_args).
  std::string proxy_token = "proxy-token-for-tests";
  int poll_interval_ms = 500;
  // --store VALUE (e.g. "etcd://127.0.0.1:2379") instead of --data-dir <temp dir>/data.
  std::string store;
  std::string log_level = "info";
  // Appended as given, e.g. {"--enable-cross-slot", "yes"} or TLS options.
  std::vector<std::string> extra_args;
  // Global flags for every slotplanectl call, e.g. {"--tls-ca", "ca.pem"} with TLS.
  std::vector<std::string> ctl_args;
  absl::Duration start_timeout = absl::Seconds(30);
  absl::Duration stop_timeout = absl::Seconds(10);
};

// A slotplane-control child process (from SLOTPLANE_BIN_DIR) on a free loopback port, with its
// data directory and log in a temporary directory that outlives restarts (Kill + Restart keeps
// the port and the store, as a restarted control plane would). Start() returns once slotplanectl
// gets an answer. The destructor stops it with SIGTERM and records a test failure when it died on
// its own or did not exit cleanly, printing the end of its log. Owned by one thread.
class ControlProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ControlProcess>> Start(const ControlOptions& options);

  ControlProcess(const ControlProcess&) = delete;
  ControlProcess& operator=(const ControlProcess&) = delete;
  ~ControlProcess();

  uint16_t port() const { return port_; }
  // "127.0.0.1:port", for --control-plane and slotplanectl --addr.
  std::string address() const;
  // The admin token file (empty when there is no token).
  const std::string& token_file() const { return token_file_; }
  // The proxy token and its file (empty when there is none).
  const std::string& proxy_token() const { return options_.proxy_token; }
  const std::string& proxy_token_file() const { return proxy_token_file_; }
  // The data directory (its FileStore may be opened while the process is stopped).
  std::string data_dir() const { return dir_.File("data"); }
  pid_t pid() const { return process_ != nullptr ? process_->pid() : 0; }
  bool IsAlive() { return process_ != nullptr && process_->IsRunning(); }

  std::string LogText() const { return ReadFileOrEmpty(log_path_); }
  void PrintLog(size_t max_lines = 200) const;

  // SIGTERM and wait: OK when it exits with code 0 within stop_timeout. Idempotent.
  absl::Status Stop();
  // SIGKILL: the control plane crashes.
  void Kill();
  // Starts it again (after Stop or Kill) on the same port with the same data directory.
  absl::Status Restart();
  // Starts it again (after Stop or Kill) on `port` with the same data directory: another replica
  // of the control plane taking over the durable state. address() and Ctl() follow it.
  absl::Status RestartOn(uint16_t port);

  // Runs `slotplanectl --addr ADDRESS [--token-file F] args...` and returns its result.
  absl::StatusOr<CommandResult> Ctl(const std::vector<std::string>& args,
                                    absl::Duration timeout = absl::Seconds(30)) const;

 private:
  ControlProcess(ControlOptions options, TempDir dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}

  absl::Status Launch(absl::Time deadline);
  absl::Status WaitUntilAnswering(absl::Time deadline);

  ControlOptions options_;
  TempDir dir_;
  std::string log_path_;
  std::string token_file_;
  std::string proxy_token_file_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  bool stopped_ = false;
};

}  // namespace slotplane::integration
