#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/net/flush_list.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {

class WorkerContext;
struct Request;

// A worker's client connections: owns them, batches their writes (one flush per client before
// the loop sleeps), deletes closed ones between loop passes, and completes replies that were
// produced on another thread, and closes idle clients (`timeout`). Worker thread only, except
// FinishAsync().
class ClientRegistry : public EventHandler {
 public:
  explicit ClientRegistry(WorkerContext* worker) : worker_(worker) {}
  // Closes every client; their requests still in backend queues are dropped when answered.
  ~ClientRegistry();
  ClientRegistry(const ClientRegistry&) = delete;
  ClientRegistry& operator=(const ClientRegistry&) = delete;

  // Takes a newly accepted client.
  ClientSession* Add(std::unique_ptr<ClientSession> client);
  // Called by a client when it closed: counted out now, deleted after the loop pass.
  void OnClosed(ClientSession* client);
  // Asks for client->Flush() before the loop sleeps.
  void ScheduleFlush(ClientSession* client);
  // Flushes the clients scheduled so far; false when there were none.
  bool FlushScheduled();
  bool flush_pending() const { return !to_flush_.empty(); }
  // Deletes the clients that closed during the pass. Between loop passes only.
  void CollectGarbage() { closed_.clear(); }

  // Calls fn(ClientSession&) for every open client.
  template <typename Fn>
  void ForEach(Fn fn) {
    for (auto& [ptr, client] : clients_) {
      if (!client->closed()) fn(*client);
    }
  }

  // Replies that come from another thread (PROXY CONFIG SET through the control plane):
  // BeginAsync queues a Request in the client's reply queue, so replies keep their order;
  // FinishAsync (thread-safe) completes it on this worker's thread. The reply is dropped when the
  // client left meanwhile; a request still open when the registry is destroyed is released then.
  Request* BeginAsync(ClientSession* client);
  void FinishAsync(Request* request, std::string reply);

 private:
  // Once a second (Redis's clientsCron): closes the clients idle for longer than the policy's
  // `timeout`, and gives heap memory back to the system after a burst. A timerfd in the worker's
  // epoll set, created with the first client: an EventLoop timer would make every loop pass read
  // the clock.
  void StartCron();
  void OnEvents(uint32_t events) override;
  void CloseIdleClients();
  // After many clients closed or many buffer bytes were freed since the last time: shrinks the
  // client table if it is sparse and calls malloc_trim (glibc), counted in heap_trims.
  void GiveBackMemoryAfterBurst();

  WorkerContext* worker_;
  bool cron_started_ = false;
  int cron_fd_ = -1;
  uint64_t freed_at_last_trim_ = 0;  // the pool's freed_bytes() at the last trim
  int64_t closed_since_trim_ = 0;
  absl::flat_hash_map<ClientSession*, std::unique_ptr<ClientSession>> clients_;
  std::vector<std::unique_ptr<ClientSession>> closed_;  // deleted after the pass
  FlushList<ClientSession> to_flush_;
  absl::flat_hash_set<Request*> async_requests_;
};

}  // namespace slotplane::dataplane
