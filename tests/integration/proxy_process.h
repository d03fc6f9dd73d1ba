#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cluster_view.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {

struct ProxyOptions {
  // Entry points, passed as one --cluster HOST:PORT each.
  std::vector<NodeAddress> seeds;
  int threads = 2;
  std::string log_level = "info";
  // `--io-engine`: auto | epoll | io_uring; empty: $SLOTPLANE_TEST_IO_ENGINE if set (so that
  // `SLOTPLANE_TEST_IO_ENGINE=epoll ctest -L integration` runs the suite on either engine), else
  // the proxy's default.
  std::string io_engine;
  // Appended as given, e.g. {"--auth", "secret", "--enable-cross-slot", "yes"}.
  std::vector<std::string> extra_args;
  // When positive, the proxy's open-files limit (soft and hard; see SpawnOptions).
  int64_t max_open_files = 0;
  absl::Duration start_timeout = absl::Seconds(30);
  // How long SIGTERM may take before the proxy is killed (and the stop counted as unclean).
  absl::Duration stop_timeout = absl::Seconds(10);
};

// A slotplane-proxy child process (from SLOTPLANE_BIN_DIR) listening on a free loopback port,
// with its stdout and stderr in a log file. Start() returns once it answers PING. The destructor
// stops it with SIGTERM (SIGKILL after stop_timeout) and records a test failure when the proxy
// died on its own or did not exit cleanly, printing the end of its log; the log is also printed
// when the current test failed. Owned by one thread.
class ProxyProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ProxyProcess>> Start(const ProxyOptions& options);

  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;
  ~ProxyProcess();

  uint16_t port() const { return port_; }
  pid_t pid() const { return process_ != nullptr ? process_->pid() : 0; }
  bool IsAlive() { return process_ != nullptr && process_->IsRunning(); }

  std::string LogText() const { return ReadFileOrEmpty(log_path_); }
  // Prints the log from byte `from` on (at most the last `max_lines` lines) to stderr.
  void PrintLog(size_t from = 0, size_t max_lines = 200) const;

  absl::StatusOr<std::unique_ptr<TestClient>> Connect(const ClientOptions& options = {}) const;

  // PROXY INFO as name -> value.
  absl::StatusOr<std::map<std::string, std::string>> Info() const;
  // One integer field of PROXY INFO, e.g. "moved_redirects".
  absl::StatusOr<int64_t> InfoCounter(const std::string& name) const;

  // SIGTERM and wait: OK when the proxy exits with code 0 within stop_timeout; otherwise it is
  // killed and the error says how it ended. Idempotent.
  absl::Status Stop();

 private:
  ProxyProcess(ProxyOptions options, TempDir dir)
      : options_(std::move(options)), dir_(std::move(dir)) {}

  absl::Status Launch(const std::string& binary, absl::Time deadline);
  // Polls until the proxy answers PING, it exits, or the deadline passes.
  absl::Status WaitUntilAnswering(absl::Time deadline);

  ProxyOptions options_;
  TempDir dir_;
  std::string log_path_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  bool stopped_ = false;
};

}  // namespace slotplane::integration
