#include "dataplane/request/request.h"

namespace slotplane::dataplane {
namespace {
// Buffers larger than this are released with the request rather than kept for reuse, so one huge
// value does not pin memory in the pool.
constexpr size_t kMaxPooledCapacity = 64 * 1024;
// Pooled requests beyond this are freed: enough for deep pipelines without holding memory forever.
constexpr size_t kMaxPooledRequests = 64 * 1024;
}  // namespace

RequestPool::~RequestPool() {
  for (Request* r : free_) delete r;
}

Request* RequestPool::Acquire() {
  ++live_;
  if (free_.empty()) return new Request();
  Request* r = free_.back();
  free_.pop_back();
  return r;
}

void RequestPool::Release(Request* r) {
  --live_;
  if (free_.size() >= kMaxPooledRequests) {
    delete r;
    return;
  }
  r->command.ClearAndTrim(kMaxPooledCapacity);
  r->reply.ClearAndTrim(kMaxPooledCapacity);
  r->client = nullptr;
  r->sink = nullptr;
  r->next_in_client = nullptr;
  r->next_in_backend = nullptr;
  r->slot = 0;
  r->redirects = 0;
  r->tryagain_attempts = 0;
  r->done = false;
  r->internal = false;
  r->replica_read = false;
  r->pinned = false;
  r->held_since_ms = 0;
  r->silent = false;
  r->resp3 = false;
  r->part = 0;
  r->stamp = CommandStamp();
  free_.push_back(r);
}

}  // namespace slotplane::dataplane
