#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slotplane::dataplane {

class ClientSession;
class MultiRequest;

// One command on its way through the proxy. Owned by its worker's RequestPool and linked into at
// most two intrusive FIFOs at a time: the client's reply queue (replies leave in request order)
// and one backend connection's in-flight queue (replies arrive in send order). Living in a pool
// with reusable buffers is what keeps the single-key path free of allocation.
struct Request {
  // The client waiting for the reply; nullptr once it disconnected (the reply is then dropped).
  ClientSession* client = nullptr;
  Request* next_in_client = nullptr;
  Request* next_in_backend = nullptr;

  std::string command;  // the RESP bytes sent to the backend, kept for MOVED/ASK/TRYAGAIN resends
  std::string reply;    // the reply, when it completed before the requests ahead of it
  uint16_t slot = 0;
  uint8_t redirects = 0;
  uint8_t tryagain_attempts = 0;
  bool done = false;
  // Sent by the proxy itself (ASKING, AUTH): the backend connection consumes its reply.
  bool internal = false;
  // Sent to a replica under the read policy: a connection failure resends it to the master
  // (read-only commands are safe to repeat).
  bool replica_read = false;
  // Set on the parts of a command that needs several backend replies: their replies go to
  // `multi` (as part number `part`), never to a client. See multi_request.h.
  MultiRequest* multi = nullptr;
  uint32_t part = 0;
};

// Per-worker free list of Requests. Not thread-safe: one per worker.
class RequestPool {
 public:
  RequestPool() = default;
  ~RequestPool();
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  Request* Acquire();
  void Release(Request* request);
  size_t live() const { return live_; }

 private:
  std::vector<Request*> free_;
  size_t live_ = 0;
};

}  // namespace slotplane::dataplane
