#pragma once

#include <sstream>
#include <string>
#include <string_view>

// A small leveled logger (Abseil 20220623 has no absl/log). Thread-safe: each line is formatted
// into its own buffer and written with one write(2).
//
//   SP_LOG(kInfo) << "listening on " << address;
//
// Levels follow redis-cluster-proxy's log-level option: debug, info, success, warning, error.
namespace slotplane {

enum class LogLevel { kDebug = 0, kInfo = 1, kSuccess = 2, kWarning = 3, kError = 4 };

// The level names, indexed by LogLevel. ParseLogLevel also takes "warn".
inline constexpr const char* kLogLevelNames[] = {"debug", "info", "success", "warning", "error"};

bool ParseLogLevel(std::string_view text, LogLevel* level);
const char* LogLevelName(LogLevel level);

void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

// Sends log lines to `path` (appending) instead of stderr; empty path means stderr. Returns false
// with errno set when the file cannot be opened.
bool SetLogFile(const std::string& path);

// Opens the log file's path again (after logrotate renamed it: SIGHUP) and sends the following
// lines there. True without doing anything when logging goes to stderr. Returns false with errno
// set when the path cannot be opened; logging then continues to the old file.
bool ReopenLogFile();

namespace internal {

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

}  // namespace internal
}  // namespace slotplane

#define SP_LOG(level)                                           \
  if (!::slotplane::LogEnabled(::slotplane::LogLevel::level)) { \
  } else                                                        \
    ::slotplane::internal::LogLine(::slotplane::LogLevel::level, __FILE__, __LINE__).stream()
