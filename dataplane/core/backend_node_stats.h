#pragma once

#include <cstdint>
#include <string_view>

namespace slotplane::dataplane {

// What one worker's shared connection to one cluster node saw: the per-node counters of
// /metrics (slotplane_proxy_backend_node_*_total). Plain integers: written and read on the
// worker's thread only (a scrape reads them in a task posted to the worker), so counting costs
// an increment. They live as long as the connection, which the worker drops once the node left
// the topology; that is what bounds the node label.
struct BackendNodeStats {
  uint64_t error_replies = 0;      // error replies, MOVED and ASK excepted (TRYAGAIN included)
  uint64_t connection_errors = 0;  // connects that failed and connections lost
  uint64_t moved = 0;              // MOVED replies
  uint64_t ask = 0;                // ASK replies
  uint64_t connect_attempts = 0;
  uint64_t reconnects = 0;  // connect attempts after the first (after a loss or a failure)

  // Counts a reply frame: an error reply (`-` or RESP3 `!`) as a redirect or an error.
  void CountReply(std::string_view frame) {
    if (frame.empty() || (frame[0] != '-' && frame[0] != '!')) return;
    if (frame.substr(0, 7) == "-MOVED ") {
      ++moved;
    } else if (frame.substr(0, 5) == "-ASK ") {
      ++ask;
    } else {
      ++error_replies;
    }
  }
  void CountConnectAttempt() {
    if (connect_attempts++ > 0) ++reconnects;
  }
  void CountConnectionError() { ++connection_errors; }
};

}  // namespace slotplane::dataplane
