#include "common/logging.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace slotplane {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_fd{STDERR_FILENO};
// The path SetLogFile opened, for ReopenLogFile; written only by the thread that sets up logging
// and handles SIGHUP (never while other threads reopen).
std::string g_path;

// One letter per level in each line, like Redis's log marks.
constexpr char kLevelMarks[] = {'.', '-', '+', '#', '!'};

// Basename of __FILE__, so log lines stay short.
const char* Basename(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  for (int i = 0; i <= static_cast<int>(LogLevel::kError); ++i) {
    if (text == kLogLevelNames[i]) {
      *level = static_cast<LogLevel>(i);
      return true;
    }
  }
  if (text == "warn") {
    *level = LogLevel::kWarning;
    return true;
  }
  return false;
}

const char* LogLevelName(LogLevel level) { return kLogLevelNames[static_cast<int>(level)]; }

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

bool SetLogFile(const std::string& path) {
  int fd = STDERR_FILENO;
  if (!path.empty()) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return false;
  }
  g_path = path;
  int old = g_fd.exchange(fd);
  // The old descriptor is left open: another thread may be writing a line to it right now, and
  // the log file is changed at most a few times in a process's life.
  (void)old;
  return true;
}

bool ReopenLogFile() {
  if (g_path.empty()) return true;
  const int fd = ::open(g_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  // dup2 swaps the file behind the descriptor number atomically: a line being written goes
  // wholly to the old file or wholly to the new one, and no descriptor leaks per rotation.
  const int current = g_fd.load();
  const bool ok = dup2(fd, current) >= 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

namespace internal {

LogLine::LogLine(LogLevel level, const char* file, int line) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  localtime_r(&tv.tv_sec, &tm);
  char stamp[64];
  size_t n = strftime(stamp, sizeof(stamp), "%d %b %Y %H:%M:%S", &tm);
  snprintf(stamp + n, sizeof(stamp) - n, ".%03d", static_cast<int>(tv.tv_usec / 1000));
  stream_ << getpid() << ' ' << stamp << ' ' << kLevelMarks[static_cast<int>(level)] << ' '
          << Basename(file) << ':' << line << "] ";
}

LogLine::~LogLine() {
  stream_ << '\n';
  const std::string text = stream_.str();
  const char* p = text.data();
  size_t left = text.size();
  int fd = g_fd.load(std::memory_order_relaxed);
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    p += w;
    left -= static_cast<size_t>(w);
  }
}

}  // namespace internal
}  // namespace slotplane
