#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace slotplane {

// Rate-limits one kind of log line that a peer can trigger at will (a refused stream, a failed
// accept): at most one line per interval, and the next line written says how many were skipped.
// Thread-safe; meant for error paths, not the request path (it takes a mutex).
//
//   static LogThrottle throttle(1000);
//   uint64_t skipped;
//   if (throttle.Allow(&skipped)) SP_LOG(kWarning) << "..." << SkippedSuffix(skipped);
class LogThrottle {
 public:
  explicit LogThrottle(int64_t interval_ms) : interval_ms_(interval_ms) {}

  // True when a line may be written now; *skipped is then the number of lines refused since the
  // last one allowed.
  bool Allow(uint64_t* skipped);

 private:
  const int64_t interval_ms_;
  std::mutex mu_;
  int64_t last_ms_ = 0;
  bool any_ = false;
  uint64_t skipped_ = 0;
};

// "; N more since the last line" when N > 0, else empty: the end of a throttled line.
std::string SkippedSuffix(uint64_t skipped);

}  // namespace slotplane
