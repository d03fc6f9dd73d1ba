#include "dataplane/router/request_forwarder.h"

#include <algorithm>

#include "dataplane/control/control_plane.h"
#include "dataplane/control/topology_refresher.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/resp/request_encoder.h"
#include "dataplane/router/redirect.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

constexpr int64_t kMinRefreshRequestGapMs = 100;
// MOVED reports to the control plane: at most one per worker per this gap.
constexpr int64_t kMinMovedReportGapMs = 100;

// Whether someone still waits for `request`'s reply.
bool Wanted(const Request* request) {
  return request->sink != nullptr && request->sink->WantsReply(request);
}

}  // namespace

EventLoop& RequestForwarder::loop() { return worker_->loop(); }
RequestPool& RequestForwarder::pool() { return worker_->pool(); }
WorkerStats& RequestForwarder::stats() { return worker_->stats(); }

void RequestForwarder::Forward(Request* request, BackendConn* conn) {
  if (conn == nullptr) {
    stats().CountError(ErrorKind::kClusterDown);
    Deliver(request,
            worker_->router().view() == nullptr ? errors::NoTopology() : errors::SlotNotServed());
    return;
  }
  stats().commands_forwarded.Add();
  conn->Send(request);
}

void RequestForwarder::ForwardToAnyMaster(ClientSession* client,
                                          const std::vector<std::string_view>& args) {
  Request* request = client->NewRequest();
  EncodeCommand(args, &request->command);
  Forward(request, worker_->router().AnyMaster());
}

void RequestForwarder::Deliver(Request* request, std::string_view reply) {
  if (request->sink == nullptr) {
    pool().Release(request);
    return;
  }
  request->sink->OnReply(request, reply);
}

void RequestForwarder::ScheduleFlush(BackendConn* conn) { to_flush_.Schedule(conn); }

bool RequestForwarder::FlushScheduled() { return to_flush_.FlushAll(); }

void RequestForwarder::OnBackendReply(BackendConn* conn, Request* request, std::string_view reply) {
  if (reply[0] == '-' && reply.size() > 4 &&
      (reply[1] == 'M' || reply[1] == 'A' || reply[1] == 'T')) {
    HandleRedirect(conn, request, reply);
    return;
  }
  Deliver(request, reply);
}

void RequestForwarder::HandleRedirect(BackendConn* conn, Request* request, std::string_view reply) {
  Redirect redirect = ParseRedirect(reply);
  if (redirect.kind == RedirectKind::kNone || !Wanted(request) || request->pinned) {
    Deliver(request, reply);  // not a redirect, nobody is waiting, or only this node may answer
    return;
  }
  if (redirect.kind == RedirectKind::kTryAgain) {
    RetryAfterTryAgain(request, reply);
    return;
  }
  if (request->redirects >= worker_->policy().max_redirects) {
    stats().CountError(ErrorKind::kRedirectLimit);
    Deliver(request, errors::TooManyRedirects(redirect.slot));
    return;
  }
  ++request->redirects;
  if (redirect.address.host.empty()) redirect.address.host = conn->address().host;
  if (redirect.kind == RedirectKind::kMoved) {
    stats().moved_redirects.Add();
    RequestTopologyRefresh();
    ReportMoved(redirect.slot, redirect.address);
    Forward(request, worker_->router().OnMoved(redirect.slot, redirect.address));
  } else {
    stats().ask_redirects.Add();
    stats().commands_forwarded.Add();
    worker_->router().ForAddress(redirect.address)->SendAsking(request);
  }
}

void RequestForwarder::RetryAfterTryAgain(Request* request, std::string_view reply) {
  if (request->tryagain_attempts >= worker_->policy().tryagain_retries) {
    Deliver(request, reply);
    return;
  }
  stats().tryagain_retries.Add();
  int delay_ms = 10 << std::min<int>(request->tryagain_attempts++, 5);
  loop().RunAfter(delay_ms, [this, request] {
    if (!Wanted(request)) {
      Deliver(request, resp::kOk);  // dropped (a part only counts as answered)
    } else {
      Forward(request, worker_->router().ForSlot(request->slot));
    }
  });
}

void RequestForwarder::FailRequest(Request* request, const std::string& error) {
  if (request->replica_read && Wanted(request)) {
    // A read-only command: safe to run again, on the master this time.
    request->replica_read = false;
    Forward(request, worker_->router().ForSlot(request->slot));
    return;
  }
  stats().CountError(ErrorKind::kBackendUnavailable);
  Deliver(request, error);
}

void RequestForwarder::ReportMoved(uint16_t slot, const NodeAddress& address) {
  ControlPlane* control = worker_->proxy().control;
  if (control == nullptr) return;
  int64_t now = loop().now_ms();
  if (now - last_moved_report_ms_ < kMinMovedReportGapMs) return;
  last_moved_report_ms_ = now;
  control->ReportMoved(slot, address);
}

void RequestForwarder::RequestTopologyRefresh() {
  TopologyRefresher* refresher = worker_->proxy().refresher;
  if (refresher == nullptr) return;
  int64_t now = loop().now_ms();
  if (now - last_refresh_request_ms_ < kMinRefreshRequestGapMs) return;
  last_refresh_request_ms_ = now;
  stats().topology_refresh_requests.Add();
  refresher->RequestRefresh();
}

}  // namespace slotplane::dataplane
