#include "dataplane/scatter/multi_request.h"

#include "dataplane/core/worker_context.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/resp2_form.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {

void MultiRequest::Begin(ClientSession* client, size_t expected_parts) {
  parent_ = client->NewRequest();
  replies_.reserve(expected_parts);
  parts_charged_ = expected_parts;
  client->AddInFlightParts(static_cast<int64_t>(parts_charged_));
  outstanding_ = 1;  // the launch hold
}

Request* MultiRequest::AddPart(uint16_t slot) {
  Request* part = worker_->pool().Acquire();
  part->sink = this;
  part->pinned = pinned_;
  part->part = static_cast<uint32_t>(replies_.size());
  part->slot = slot;
  part->resp3 = parent_->resp3;  // on the client's connections: keeps its place among its commands
  replies_.emplace_back();
  ++outstanding_;
  return part;
}

void MultiRequest::Send(Request* part, BackendConn* conn) {
  worker_->forwarder().Forward(part, conn);
}

void MultiRequest::Launch() { PartDone(); }

void MultiRequest::OnReply(Request* part, std::string_view reply) {
  std::string& kept = replies_[part->part];
  if (part->resp3) {
    resp::AppendResp2Form(reply, &kept);  // the reducers read RESP2
  } else {
    kept.assign(reply.data(), reply.size());
  }
  worker_->pool().Release(part);
  PartDone();
}

void MultiRequest::PartDone() {
  if (--outstanding_ > 0) return;
  Request* parent = parent_;
  if (ClientSession* client = parent->client) {
    client->AddInFlightParts(-static_cast<int64_t>(parts_charged_));
    std::string reply;
    Reduce(replies_, &reply);
    client->Complete(parent, reply);
  } else {
    worker_->pool().Release(parent);
  }
  delete this;
}

}  // namespace slotplane::dataplane
