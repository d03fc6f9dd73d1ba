#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/slot.h"
#include "dataplane/request/request.h"

namespace slotplane::dataplane {
struct ProxyPolicy;  // dataplane/core/policy.h
}  // namespace slotplane::dataplane

namespace slotplane::dataplane {

// The requests a worker holds while their slot has no working master (failover-hold-timeout):
// the master's connection was lost or refused, or the cluster answered CLUSTERDOWN. They wait here
// until the slot's master answers again or a new master takes the slot (the request forwarder
// resends them), or until the hold expires. Held requests stay in their client's reply queue, so
// replies still leave in request order; here they are linked through `next_in_backend` (a held
// request is on no backend connection), oldest first, so they are resent in the order they came.
//
// Bounded per worker by a count and by the bytes of the held commands; Hold() refuses beyond
// either, and the request then fails as it would have without holding. No allocation: the queue
// is intrusive. Worker thread only.
class HoldQueue {
 public:
  struct Budget {
    size_t max_requests = 100000;
    size_t max_bytes = 64u << 20;
  };

  HoldQueue() = default;
  explicit HoldQueue(Budget budget) : budget_(budget) {}
  HoldQueue(const HoldQueue&) = delete;
  HoldQueue& operator=(const HoldQueue&) = delete;

  // Appends `request` (on no other FIFO but its client's) and stamps `held_since_ms` the first
  // time it is held. False, with nothing changed, when it would go over the budget.
  bool Hold(Request* request, int64_t now_ms);
  // Unlinks every held request and returns the oldest, the others following through
  // `next_in_backend` (the caller clears it). The queue is empty afterwards.
  Request* TakeAll();

  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  size_t bytes() const { return bytes_; }
  // Whether a request for `slot` is held: a later one must wait behind it to keep its order.
  bool HoldsSlot(uint16_t slot) const { return count_ != 0 && per_slot_[slot] != 0; }

 private:
  Budget budget_;
  Request* head_ = nullptr;
  Request* tail_ = nullptr;
  size_t count_ = 0;
  size_t bytes_ = 0;
  std::array<uint32_t, kSlotCount> per_slot_{};
};

// Whether a request that has been held since `held_since_ms` has used up a hold of `hold_ms`.
inline bool HoldExpired(const Request& request, int64_t now_ms, int hold_ms) {
  return request.held_since_ms != 0 && now_ms - request.held_since_ms >= hold_ms;
}

// Whether the command in `wire` (RESP multibulk or an inline command) may be sent again after it
// may have run on a lost connection: read-only commands (Redis's `readonly` flag: running them
// twice changes nothing) and the writes `policy` lists in failover-resend-commands. Unknown
// commands are not.
bool ResendableAfterLoss(std::string_view wire, const ProxyPolicy& policy);

// Whether `reply` is a -CLUSTERDOWN error: the node did not run the command.
inline bool IsClusterDown(std::string_view reply) {
  return reply.size() > 12 && reply.compare(0, 12, "-CLUSTERDOWN") == 0;
}

}  // namespace slotplane::dataplane
