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
// While requests are held, the tick resends or expires them this often (and asks for a topology
// refresh, itself limited to one per kMinRefreshRequestGapMs).
constexpr int kHoldTickMs = 50;
// Without held requests, backend timeouts are checked every backend-timeout / 4, within these.
constexpr int kMinSweepMs = 50;
constexpr int kMaxSweepMs = 1000;

// Whether someone still waits for `request`'s reply.
bool Wanted(const Request* request) {
  return request->sink != nullptr && request->sink->WantsReply(request);
}

}  // namespace

EventLoop& RequestForwarder::loop() { return worker_->loop(); }
RequestPool& RequestForwarder::pool() { return worker_->pool(); }
WorkerStats& RequestForwarder::stats() { return worker_->stats(); }

RequestForwarder::~RequestForwarder() {
  loop().Cancel(tick_timer_);
  // The clients are closed by now (nobody waits); release what is still held.
  Request* r = held_.TakeAll();
  while (r != nullptr) {
    Request* next = r->next_in_backend;
    r->next_in_backend = nullptr;
    r->reply.clear();
    Deliver(r, errors::Generic("slotplane: the proxy is shutting down"));
    r = next;
  }
}

void RequestForwarder::Forward(Request* request, BackendConn* conn) {
  // Behind the held requests of its slot, so one client's commands keep their order.
  if (held_.HoldsSlot(request->slot) && !request->replica_read &&
      HoldForFailover(request, HeldError(conn))) {
    return;
  }
  Send(request, conn);
}

void RequestForwarder::Send(Request* request, BackendConn* conn) {
  if (conn == nullptr) {
    const bool no_view = worker_->router().view() == nullptr;
    // A slot the view does not serve is CLUSTERDOWN: held like the cluster's own answer.
    if (!no_view && HoldForFailover(request, errors::SlotNotServed())) return;
    stats().CountError(ErrorKind::kClusterDown);
    Deliver(request, no_view ? errors::NoTopology() : errors::SlotNotServed());
    return;
  }
  stats().commands_forwarded.Add();
  if (request->resp3) conn = conn->Resp3();  // RESP3 clients' replies pass through verbatim
  conn->Send(request);
  if (tick_timer_ == 0) ArmTick();
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
  if (reply[0] == '-' && reply.size() > 4) {
    if (reply[1] == 'M' || reply[1] == 'A' || reply[1] == 'T') {
      HandleRedirect(conn, request, reply);
      return;
    }
    // CLUSTERDOWN: the node ran nothing (a master is failing over); wait for the cluster.
    if (reply[1] == 'C' && IsClusterDown(reply) && HoldForFailover(request, reply)) return;
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
    BackendConn* target = worker_->router().ForAddress(redirect.address);
    (request->resp3 ? target->Resp3() : target)->SendAsking(request);
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

void RequestForwarder::FailRequest(Request* request, const std::string& error, FailKind kind) {
  if (request->replica_read && Wanted(request)) {
    // A read-only command: safe to run again, on the master this time.
    request->replica_read = false;
    Forward(request, worker_->router().ForSlot(request->slot));
    return;
  }
  // Held only when sending it again cannot run it twice with a different outcome: it never
  // reached the node, or it is read-only, or the policy says running it twice is harmless
  // (failover-resend-commands). A timeout is reported, not held (the node is alive).
  const ProxyPolicy& policy = worker_->policy();
  const bool safe = kind == FailKind::kNotSent ||
                    (kind == FailKind::kMaybeRun && policy.failover_hold_timeout > 0 &&
                     ResendableAfterLoss(request->command, policy));
  if (safe && HoldForFailover(request, error)) return;
  stats().CountError(ErrorKind::kBackendUnavailable);
  Deliver(request, error);
}

bool RequestForwarder::HoldForFailover(Request* request, std::string_view error) {
  const int hold_ms = worker_->policy().failover_hold_timeout;
  if (hold_ms <= 0 || request->pinned || request->internal || !Wanted(request)) return false;
  const int64_t now = loop().now_ms();
  if (HoldExpired(*request, now, hold_ms)) {
    request->reply.assign(error.data(), error.size());
    ExpireHeld(request);
    return true;
  }
  const bool first = request->held_since_ms == 0;
  if (!held_.Hold(request, now)) return false;  // over the budget: fails as without holding
  if (first) stats().failover_held_requests.Add();
  request->reply.assign(error.data(), error.size());  // the answer should the hold expire
  RequestTopologyRefresh();
  if (tick_timer_ == 0 || tick_interval_ms_ > kHoldTickMs) {
    loop().Cancel(tick_timer_);  // a slower backend-timeout tick: the hold needs the fast one
    ArmTick();
  }
  return true;
}

std::string RequestForwarder::HeldError(BackendConn* conn) const {
  if (conn == nullptr) return errors::SlotNotServed();
  return errors::NodeUnreachable(conn->address_text(), conn->last_error().empty()
                                                           ? "a failover is in progress"
                                                           : conn->last_error());
}

void RequestForwarder::ExpireHeld(Request* request) {
  stats().failover_expired_requests.Add();
  const std::string error(request->reply.view());
  request->reply.clear();
  if (IsClusterDown(error)) {
    stats().CountError(ErrorKind::kClusterDown);
    Deliver(request, error);  // the cluster's own answer, as it gave it
    return;
  }
  stats().CountError(ErrorKind::kBackendUnavailable);
  Deliver(request, errors::HoldExpired(error, worker_->policy().failover_hold_timeout));
}

void RequestForwarder::ArmTick() {
  int interval_ms = 0;
  if (!held_.empty()) {
    interval_ms = kHoldTickMs;
  } else if (const int timeout = worker_->policy().backend_timeout; timeout > 0) {
    interval_ms = std::clamp(timeout / 4, kMinSweepMs, kMaxSweepMs);
  } else {
    return;
  }
  tick_interval_ms_ = interval_ms;
  tick_timer_ = loop().RunAfter(interval_ms, [this] {
    tick_timer_ = 0;
    Tick();
  });
}

void RequestForwarder::Tick() {
  const int64_t now = loop().now_ms();
  bool busy = false;
  if (const int timeout = worker_->policy().backend_timeout; timeout > 0) {
    busy = SweepBackendTimeouts(now, timeout);
  }
  if (!held_.empty()) ReconsiderHeld(now);
  // Idle (nothing in flight, nothing held): the next Send starts the tick again.
  if (busy || !held_.empty()) ArmTick();
}

bool RequestForwarder::SweepBackendTimeouts(int64_t now, int timeout_ms) {
  bool busy = false;
  overdue_.clear();
  const auto sweep = [&](BackendConn* conn) {
    if (conn->in_flight() == 0) return;
    busy = true;
    if (conn->Overdue(now, timeout_ms)) overdue_.push_back(conn);
  };
  worker_->router().ForEachBackend([&](BackendConn& conn) {
    sweep(&conn);
    if (BackendConn* resp3 = conn.resp3_sibling()) sweep(resp3);
  });
  // Failing requests runs client code: not while walking the router's connections.
  for (BackendConn* conn : overdue_) conn->TimeOut(timeout_ms);
  overdue_.clear();
  return busy;
}

void RequestForwarder::ReconsiderHeld(int64_t now) {
  RequestTopologyRefresh();  // replicas' CLUSTER SHARDS show the promotion
  const int hold_ms = worker_->policy().failover_hold_timeout;
  Request* r = held_.TakeAll();
  while (r != nullptr) {
    Request* next = r->next_in_backend;
    r->next_in_backend = nullptr;
    BackendConn* conn = worker_->router().ForSlot(r->slot);
    if (!Wanted(r)) {
      r->reply.clear();
      Deliver(r, resp::kOk);  // dropped (a part only counts as answered)
    } else if (hold_ms <= 0 || HoldExpired(*r, now, hold_ms)) {
      ExpireHeld(r);
    } else if (conn == nullptr || conn->down() || held_.HoldsSlot(r->slot)) {
      // No working master yet, or an older request of the slot still waits: keep its place.
      // It fitted the budget a moment ago, and the queue only shrank since.
      if (!held_.Hold(r, now)) ExpireHeld(r);
    } else {
      stats().failover_resent_requests.Add();
      r->reply.clear();
      Send(r, conn);  // fails straight back into the queue if the node still refuses
    }
    r = next;
  }
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
