#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/request/request.h"

namespace slotplane::dataplane {

class BackendConn;
class ClientSession;
class WorkerContext;

// Scatter/gather for one client command that needs several backend replies: a cross-slot split
// (MGET over many slots), a fan-out to every master (DBSIZE, KEYS, FLUSHALL, ...) or to every
// node (CONFIG SET), a SCAN step whose reply is rewritten.
//
// The parent Request holds the command's place in the client's reply queue, so replies still
// leave in request order. Each part is a pooled Request of its own whose `multi` points here, so
// the request forwarder hands its reply (or its failure) to OnReply() instead of a client. Parts
// travel like any request: keyed parts follow MOVED/ASK/TRYAGAIN
// (RequestForwarder::HandleRedirect), parts pinned to one node (fan-out) take any reply as it is,
// and a lost or unreachable node fails a part with an error reply. When the last part is in,
// Reduce() builds the parent's reply and the parent completes; if its client disconnected meanwhile
// (parent->client == nullptr) the parent is just released. Either way this happens exactly once,
// and the MultiRequest deletes itself.
//
// Memory: one allocation per command plus one reply string per part; the parts count towards
// the client's backpressure limit (ClientSession::AddInFlightParts), so a client that pipelines
// huge split commands is paused like one that pipelines many small ones.
//
// Ownership: created by a subclass's owner with new, then owned by its own parts. Worker thread
// only.
class MultiRequest : public ReplySink {
 public:
  virtual ~MultiRequest() = default;
  MultiRequest(const MultiRequest&) = delete;
  MultiRequest& operator=(const MultiRequest&) = delete;

  // --- ReplySink: the forwarder's entry point for every reply or failure of a part ---
  // Releases `part`.
  void OnReply(Request* part, std::string_view reply) override;
  // Whether the client still waits for the parent's reply.
  bool WantsReply(const Request*) const override { return parent_->client != nullptr; }

  // Takes the parent's place in `client`'s reply queue. Call once, before AddPart().
  void Begin(ClientSession* client, size_t expected_parts);
  // A new part for `slot` (0 for pinned parts) with an empty command for the caller to fill,
  // then to pass to Send(). Parts of a pinned MultiRequest must be answered by the node they
  // were sent to: no redirect is followed.
  Request* AddPart(uint16_t slot);
  // Sends a part to `conn` (nullptr: answered "slot not served" at once).
  void Send(Request* part, BackendConn* conn);
  // Call after the last AddPart()/Send(): the reply may be built before this returns (all parts
  // failed fast), after which the object is gone.
  void Launch();

 protected:
  MultiRequest(WorkerContext* worker, bool pinned) : worker_(worker), pinned_(pinned) {}

  // Every part's reply, in part order (each a whole RESP frame); writes the parent's reply.
  virtual void Reduce(const std::vector<std::string>& replies, std::string* out) = 0;

  WorkerContext* worker() const { return worker_; }
  // Whether the merged reply must be RESP3 (the client's protocol when it sent the command). The
  // parts of a RESP3 client's command go on the nodes' RESP3 connections, like its other
  // commands, so none overtakes another on its way to a node; their replies are turned into
  // their RESP2 form as they arrive (resp::AppendResp2Form): the reducers read RESP2 and write
  // the client's protocol.
  bool resp3() const { return parent_->resp3; }

 private:
  void PartDone();

  WorkerContext* const worker_;
  const bool pinned_;
  Request* parent_ = nullptr;
  size_t parts_charged_ = 0;  // counted in the client's backpressure
  std::vector<std::string> replies_;
  size_t outstanding_ = 0;  // parts in flight, plus one until Launch()
};

}  // namespace slotplane::dataplane
