#include "controlplane/watch/convergence.h"

namespace slotplane::control {

void ConvergenceTracker::Published(uint64_t version, absl::Time now, int proxies) {
  if (proxies == 0) {
    pending_.clear();  // nobody to converge: nothing earlier can be measured either
    return;
  }
  if (!pending_.empty() && version <= pending_.back().version) return;
  pending_.push_back({version, now});
  if (pending_.size() > kMaxPending) pending_.pop_front();
}

std::vector<absl::Duration> ConvergenceTracker::Progress(int proxies, uint64_t min_acked,
                                                         absl::Time now) {
  std::vector<absl::Duration> converged;
  if (proxies == 0) {
    pending_.clear();
    return converged;
  }
  while (!pending_.empty() && pending_.front().version <= min_acked) {
    converged.push_back(now - pending_.front().published);
    pending_.pop_front();
  }
  return converged;
}

}  // namespace slotplane::control
