#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace slotplane::integration {

struct SpawnOptions {
  // argv[0] is an absolute path or a name looked up on $PATH.
  std::vector<std::string> argv;
  // File that receives the child's stdout and stderr (appended). Empty: /dev/null. Ignored with
  // `use_pty`, where the terminal carries both.
  std::string output_path;
  // File fed to the child's stdin. Empty: /dev/null.
  std::string input_path;
  // Run the child on a new pseudo-terminal (stdin, stdout and stderr), as an interactive program
  // would be; the parent talks to it through pty_fd().
  bool use_pty = false;
  // When positive, the child's open-files limit (RLIMIT_NOFILE, soft and hard, so it cannot raise
  // it back), set just before exec. 0: inherited from this process.
  int64_t max_open_files = 0;
};

// A child process (fork + exec) that can never outlive its owner: the destructor kills and reaps
// it, and the child asks the kernel (PR_SET_PDEATHSIG) for SIGKILL when the spawning thread dies,
// so a crashed or aborted test binary leaves nothing behind. Spawn from a thread that lives as
// long as the child (the test's main thread). The child runs in its own process group; signals
// go to the whole group, so helpers it forks (redis-server's RDB child) go with it. All file
// descriptors but stdin/stdout/stderr are closed in the child. Not thread-safe.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const SpawnOptions& options);

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // The parent's end of the pseudo-terminal (use_pty only), or -1.
  int pty_fd() const { return pty_fd_; }

  // True until the child has exited; reaps it when it has.
  bool IsRunning();
  // The waitpid() status once the child exited and was reaped.
  std::optional<int> wait_status() const { return wait_status_; }

  // Waits (bounded) for the child to exit on its own. Returns its waitpid() status, or nullopt
  // when it is still running at the deadline.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // SIGKILL to the process group, then reap.
  void Kill();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the waitpid() status.
  int Terminate(absl::Duration grace);

 private:
  ChildProcess(pid_t pid, int pty_fd) : pid_(pid), pty_fd_(pty_fd) {}
  void Signal(int signo);

  pid_t pid_;
  int pty_fd_;
  std::optional<int> wait_status_;
};

// "exit code 0", "killed by signal 9 (Killed)", ... for a waitpid() status.
std::string DescribeWaitStatus(int wait_status);

// Absolute path of `name` on $PATH, or NotFound.
absl::StatusOr<std::string> FindOnPath(const std::string& name);

struct CommandResult {
  int wait_status = 0;
  std::string output;  // stdout and stderr, interleaved as written

  bool Succeeded() const;
  // The exit status, or -1 when the command was killed by a signal.
  int ExitCode() const;
};

// Runs a command to completion with its output captured in a file under `work_dir`. Fails if it
// cannot start or is still running after `timeout` (it is then killed); a non-zero exit is not an
// error here, the caller inspects the result.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& work_dir, absl::Duration timeout,
                                         const std::string& input_path = "");

}  // namespace slotplane::integration
