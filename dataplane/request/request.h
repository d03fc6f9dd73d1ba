#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/core/command_stats.h"
#include "dataplane/resp/wire_bytes.h"

namespace slotplane::dataplane {

class ClientSession;
struct Request;

// Whoever takes a forwarded request's reply: the client that sent the command (ClientSession) or
// the split or fan-out command it is a part of (MultiRequest). The request forwarder hands every
// backend reply or failure to the request's sink, so router/ and backend/ code never needs to know
// who is waiting. Worker thread only.
class ReplySink {
 public:
  // `request`'s reply: a whole RESP frame (an error line for failures), valid only during the
  // call. The sink takes the request over (completes it in a reply queue or releases it).
  virtual void OnReply(Request* request, std::string_view reply) = 0;
  // Whether anyone still waits for `request`'s reply; when nobody does, redirects and retries
  // are not followed.
  virtual bool WantsReply(const Request* request) const = 0;

 protected:
  ~ReplySink() = default;
};

// One command on its way through the proxy. Owned by its worker's RequestPool and linked into at
// most two intrusive FIFOs at a time: the client's reply queue (replies leave in request order)
// and one backend connection's in-flight queue (replies arrive in send order). Living in a pool
// with reusable buffers is what keeps the single-key path free of allocation.
struct Request {
  // The client whose reply queue holds this request; nullptr once it disconnected, and for the
  // parts of a split command (see `sink`).
  ClientSession* client = nullptr;
  // Where a backend reply goes; nullptr when nobody waits any more (the reply is then dropped and
  // the request released).
  ReplySink* sink = nullptr;
  Request* next_in_client = nullptr;
  Request* next_in_backend = nullptr;

  uint16_t slot = 0;
  uint8_t redirects = 0;
  uint8_t tryagain_attempts = 0;
  bool done = false;
  // Sent by the proxy itself (ASKING, AUTH): the backend connection consumes its reply.
  bool internal = false;
  // Sent to a replica under the read policy: a connection failure resends it to the master
  // (read-only commands are safe to repeat).
  bool replica_read = false;
  // Only the node it was sent to may answer (a fan-out part): redirects are not followed.
  bool pinned = false;
  // When the request was first held for a failover (router/hold_queue.h); 0: never held. A
  // request held again keeps its first time, so the hold timeout bounds its whole wait.
  int64_t held_since_ms = 0;
  // Its reply is dropped when it completes (CLIENT REPLY OFF or SKIP when it joined the client's
  // reply queue; ClientSession::NewRequest).
  bool silent = false;
  // The reply must be RESP3: a RESP3 client's request, sent on the node's RESP3 connection
  // (BackendConn::Resp3) so that its reply passes through verbatim. Parts of split and fan-out
  // commands stay RESP2: the proxy reads those replies itself.
  bool resp3 = false;
  // The part number of a split or fan-out command's part (see scatter/multi_request.h).
  uint32_t part = 0;
  // Set on the first reply-queue entry of a client's command: its latency and outcome are
  // recorded when the reply completes (ClientSession::Complete).
  CommandStamp stamp;
  // The bytes come last, so that the links and flags above share the first cache line.
  // The RESP bytes sent to the backend, kept for MOVED/ASK/TRYAGAIN and failover resends: a
  // copy, because the client's input buffer is reused as soon as the command is dispatched.
  WireBytes command;
  // The reply, when it completed before the requests ahead of it (parked until they are done);
  // while the request is held for a failover, the error it gets should the hold expire.
  WireBytes reply;
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
