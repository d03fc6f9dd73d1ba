#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cluster_view.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/net/flush_list.h"

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
class RequestForwarder : public BackendOwner {
 public:
  explicit RequestForwarder(WorkerContext* worker) : worker_(worker) {}
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
  void FailRequest(Request* request, const std::string& error) override;
  void OnBackendDown(BackendConn* conn) override { RequestTopologyRefresh(); }

 private:
  void HandleRedirect(BackendConn* conn, Request* request, std::string_view reply);
  void RetryAfterTryAgain(Request* request, std::string_view reply);
  void ReportMoved(uint16_t slot, const NodeAddress& address);

  WorkerContext* const worker_;
  FlushList<BackendConn> to_flush_;
  std::string scratch_;
  int64_t last_refresh_request_ms_ = 0;
  int64_t last_moved_report_ms_ = 0;
};

}  // namespace slotplane::dataplane
