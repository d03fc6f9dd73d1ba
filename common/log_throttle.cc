#include "common/log_throttle.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace slotplane {

bool LogThrottle::Allow(uint64_t* skipped) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  std::lock_guard<std::mutex> lock(mu_);
  if (any_ && now - last_ms_ < interval_ms_) {
    ++skipped_;
    return false;
  }
  any_ = true;
  last_ms_ = now;
  *skipped = skipped_;
  skipped_ = 0;
  return true;
}

std::string SkippedSuffix(uint64_t skipped) {
  if (skipped == 0) return {};
  return absl::StrCat("; ", skipped, " more since the last line");
}

}  // namespace slotplane
