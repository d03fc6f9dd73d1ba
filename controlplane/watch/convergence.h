#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/time/time.h"

namespace slotplane::control {

// Measures fleet convergence: for each published version V, the time from its publication to the
// first moment every connected proxy (a stream that said Hello) has acked V or a later version.
// The fleet is whoever is connected at that moment: a proxy that connects meanwhile must ack too
// (it is sent the current version at its Hello), one that disconnects no longer counts (its leaving
// may be what completes the convergence). A version is measured only while some proxy is
// connected: one published with no proxy connected, or pending when the last proxy leaves, is
// dropped unmeasured (there is no fleet to converge). At most kMaxPending versions wait; beyond
// that the oldest is dropped unmeasured, so a proxy that rejects every version costs bounded
// memory. Not thread-safe: WatchHub calls it under its lock.
class ConvergenceTracker {
 public:
  static constexpr size_t kMaxPending = 256;

  // Version `version` was published at `now`; `proxies` are connected now.
  void Published(uint64_t version, absl::Time now, int proxies);

  // The fleet's state changed (an ACK, a Hello, a disconnect): `proxies` are connected and the
  // lowest version any of them acked is `min_acked`. Returns the convergence time of each pending
  // version that converged now, oldest first, and forgets them.
  std::vector<absl::Duration> Progress(int proxies, uint64_t min_acked, absl::Time now);

  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    uint64_t version;
    absl::Time published;
  };
  std::deque<Pending> pending_;  // ascending versions
};

}  // namespace slotplane::control
