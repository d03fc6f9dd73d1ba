#include "tests/integration/child_process.h"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

// Terminal size for use_pty children: wide enough that interactive output does not wrap.
constexpr unsigned short kPtyRows = 50;
constexpr unsigned short kPtyCols = 200;

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Runs in the forked child: only async-signal-safe calls until execv.
[[noreturn]] void ExecChild(pid_t parent, bool use_pty, int in_fd, int out_fd,
                            int64_t max_open_files, const char* path, char* const* argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  if (!use_pty) {
    ::setpgid(0, 0);  // forkpty already made the child a session (and group) leader
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(out_fd, STDERR_FILENO);
  }
  // Ignored signals stay ignored across exec (the test binary ignores SIGPIPE): restore defaults.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int signo = 1; signo < NSIG; ++signo) ::sigaction(signo, &dfl, nullptr);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 65536; ++fd) ::close(fd);
  }
  if (max_open_files > 0) {
    struct rlimit limit;
    limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(max_open_files);
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      const char* message = "setrlimit(RLIMIT_NOFILE) failed\n";
      ::write(STDERR_FILENO, message, std::strlen(message));
      ::_exit(127);
    }
  }
  ::execv(path, argv);
  const char* message = "exec failed: ";
  ::write(STDERR_FILENO, message, std::strlen(message));
  ::write(STDERR_FILENO, path, std::strlen(path));
  ::write(STDERR_FILENO, "\n", 1);
  ::_exit(127);
}

absl::StatusOr<int> OpenOrDevNull(const std::string& path, int flags) {
  const std::string& target = path.empty() ? std::string("/dev/null") : path;
  const int fd = ::open(target.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError(absl::StrCat("open ", target));
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty argv");
  std::string path = options.argv[0];
  if (path.find('/') == std::string::npos) {
    absl::StatusOr<std::string> found = FindOnPath(path);
    if (!found.ok()) return found.status();
    path = *std::move(found);
  }
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  absl::StatusOr<int> in_fd = OpenOrDevNull(options.input_path, O_RDONLY);
  if (!in_fd.ok()) return in_fd.status();
  absl::StatusOr<int> out_fd =
      OpenOrDevNull(options.use_pty ? "" : options.output_path, O_WRONLY | O_CREAT | O_APPEND);
  if (!out_fd.ok()) {
    ::close(*in_fd);
    return out_fd.status();
  }

  const pid_t parent = ::getpid();
  int pty_fd = -1;
  pid_t pid;
  if (options.use_pty) {
    winsize size{};
    size.ws_row = kPtyRows;
    size.ws_col = kPtyCols;
    pid = ::forkpty(&pty_fd, nullptr, nullptr, &size);
  } else {
    pid = ::fork();
  }
  if (pid == 0)
    ExecChild(parent, options.use_pty, *in_fd, *out_fd, options.max_open_files, path.c_str(),
              argv.data());
  const int fork_errno = errno;
  ::close(*in_fd);
  ::close(*out_fd);
  if (pid < 0) {
    errno = fork_errno;
    return ErrnoError("fork");
  }
  if (!options.use_pty) ::setpgid(pid, pid);  // also done by the child; whichever runs first
  if (pty_fd >= 0) ::fcntl(pty_fd, F_SETFD, FD_CLOEXEC);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pty_fd));
}

ChildProcess::~ChildProcess() {
  if (!wait_status_.has_value()) Kill();
  if (pty_fd_ >= 0) ::close(pty_fd_);
}

bool ChildProcess::IsRunning() {
  if (wait_status_.has_value()) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  // r == -1 (ECHILD) cannot happen for our own unreaped child; treat it as gone either way.
  wait_status_ = r == pid_ ? status : W_EXITCODE(255, 0);
  return false;
}

std::optional<int> ChildProcess::WaitForExit(absl::Duration timeout) {
  WaitFor([this] { return !IsRunning(); }, timeout, absl::Milliseconds(5));
  return wait_status_;
}

void ChildProcess::Signal(int signo) {
  // Only while unreaped: until then the pid (and the group id) cannot be reused.
  if (wait_status_.has_value()) return;
  if (::kill(-pid_, signo) != 0) ::kill(pid_, signo);
}

void ChildProcess::Kill() {
  if (wait_status_.has_value()) return;
  Signal(SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);  // SIGKILL cannot be caught: this returns promptly
  } while (r < 0 && errno == EINTR);
  wait_status_ = r == pid_ ? status : W_EXITCODE(255, 0);
}

int ChildProcess::Terminate(absl::Duration grace) {
  if (IsRunning()) {
    Signal(SIGTERM);
    if (!WaitForExit(grace).has_value()) Kill();
  }
  return *wait_status_;
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exit code ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int signo = WTERMSIG(wait_status);
    return absl::StrCat("killed by signal ", signo, " (", ::strsignal(signo), ")");
  }
  return absl::StrCat("wait status ", wait_status);
}

absl::StatusOr<std::string> FindOnPath(const std::string& name) {
  const char* path_env = std::getenv("PATH");
  const std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat("'", name, "' not found on PATH (", path, ")"));
}

bool CommandResult::Succeeded() const {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

int CommandResult::ExitCode() const {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& work_dir, absl::Duration timeout,
                                         const std::string& input_path) {
  static std::atomic<int> counter{0};
  SpawnOptions options;
  options.argv = argv;
  options.output_path = absl::StrCat(work_dir, "/command-", counter.fetch_add(1), ".out");
  options.input_path = input_path;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(options);
  if (!child.ok()) return child.status();
  const std::optional<int> status = (*child)->WaitForExit(timeout);
  CommandResult result;
  result.output = ReadFileOrEmpty(options.output_path);
  ::unlink(options.output_path.c_str());
  if (!status.has_value()) {
    return absl::DeadlineExceededError(
        absl::StrCat("'", absl::StrJoin(argv, " "), "' still running after ",
                     absl::FormatDuration(timeout), "; output:\n", LastLines(result.output, 40)));
  }
  result.wait_status = *status;
  return result;
}

}  // namespace slotplane::integration
