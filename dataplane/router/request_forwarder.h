#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cluster_view.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/net/flush_list.h"
#include "dataplane/router/hold_queue.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;
struct Request;

// The one way a request travels between a worker's clients and its shared backend connections:
// it forwards requests to their node, and decides what each backend reply means — deliver it to
// the request's ReplySink, follow a redirect (MOVED: correct the slot table, resend and refresh
// the topology; ASK: ASKING + resend to the target; TRYAGAIN: resend after a backoff), or fail the
// request (a replica read that failed goes to the master instead). It also batches the backend
// writes of a loop pass (one Flush per connection before the loop sleeps) and rate-limits
// topology refreshes and MOVED reports. Redirects live here, in the request path, and not in the
// thread object, as in Envoy's redis proxy. One per worker; worker thread only.
//
// Failover hold (failover-hold-timeout): a request whose master's connection was refused, is in
// backoff or was lost before the request was written, or that the cluster answered CLUSTERDOWN,
// is held (HoldQueue) instead of failed, while the topology is refreshed every tick; it is sent
// again once its slot's master works (a new master after a failover) and fails with the error
// naming the node when the hold expires. A request written to a connection that was then lost
// may have run: only read-only commands are held, writes fail at once. A request for a slot that
// has held requests waits behind them, so one client's commands keep their order.
//
// Backend timeout (backend-timeout): the same per-worker tick closes connections whose node left
// a written request unanswered too long (BackendConn::Overdue), failing what they carried.
class RequestForwarder : public BackendOwner {
 public:
  explicit RequestForwarder(WorkerContext* worker) : worker_(worker) {}
  ~RequestForwarder();
  RequestForwarder(const RequestForwarder&) = delete;
  RequestForwarder& operator=(const RequestForwarder&) = delete;

  // Sends `request` (its `command` holds the RESP bytes, its `sink` waits) to `conn`, or answers
  // "slot not served" / "no topology" when `conn` is null.
  void Forward(Request* request, BackendConn* conn);
  // Sends a keyless command to any master on behalf of `client` (local commands that defer to the
  // cluster). `args` are encoded as RESP.
  void ForwardToAnyMaster(ClientSession* client, const std::vector<std::string_view>& args);
  // Hands `reply` to the request's sink, or releases the request when nobody waits.
  void Deliver(Request* request, std::string_view reply);
  // Asks the topology refresher for a refresh, at most once per 100 ms per worker.
  void RequestTopologyRefresh();

  // Flushes the backend connections scheduled during the pass; false when there were none.
  bool FlushScheduled();
  bool flush_pending() const { return !to_flush_.empty(); }

  // --- BackendOwner ---
  EventLoop& loop() override;
  RequestPool& pool() override;
  WorkerStats& stats() override;
  void ScheduleFlush(BackendConn* conn) override;
  void OnBackendReply(BackendConn* conn, Request* request, std::string_view reply) override;
  void FailRequest(Request* request, const std::string& error, FailKind kind) override;
  void OnBackendDown(BackendConn* conn) override { RequestTopologyRefresh(); }

 private:
  void HandleRedirect(BackendConn* conn, Request* request, std::string_view reply);
  void RetryAfterTryAgain(Request* request, std::string_view reply);
  void ReportMoved(uint16_t slot, const NodeAddress& address);
  // Holds `request` for a failover with `error` as its answer should the hold expire; or, when
  // it has waited the whole hold already, fails it with that error. False when it may not be
  // held (holding off, a pinned or unwanted request, over the budget): the caller answers.
  bool HoldForFailover(Request* request, std::string_view error);
  // Sends `request` to `conn`, without the check that keeps it behind its slot's held requests.
  void Send(Request* request, BackendConn* conn);
  // The hold error of a request that waits behind held requests of its slot.
  std::string HeldError(BackendConn* conn) const;
  // Starts the tick when there is something for it to do (held requests, backend-timeout).
  void ArmTick();
  // Every kHoldTickMs while requests are held, else every backend-timeout / 4: backend timeouts,
  // then every held request is resent, kept or expired.
  void Tick();
  // Times out overdue connections; whether any connection has requests in flight.
  bool SweepBackendTimeouts(int64_t now, int timeout_ms);
  void ReconsiderHeld(int64_t now);
  // Fails a held request whose hold expired.
  void ExpireHeld(Request* request);

  WorkerContext* const worker_;
  FlushList<BackendConn> to_flush_;
  std::string scratch_;
  int64_t last_refresh_request_ms_ = 0;
  int64_t last_moved_report_ms_ = 0;
  HoldQueue held_;
  EventLoop::TimerId tick_timer_ = 0;
  int tick_interval_ms_ = 0;
  std::vector<BackendConn*> overdue_;  // reused by SweepBackendTimeouts
};

}  // namespace slotplane::dataplane
