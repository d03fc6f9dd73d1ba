#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dataplane/net/batched_writer.h"
#include "dataplane/net/io_engine.h"

namespace slotplane::dataplane {

// Receives readiness events for one file descriptor. The loop never owns handlers; an owner that
// destroys a handler during a pass must defer the delete to the end of the pass (see Worker).
class EventHandler {
 public:
  virtual void OnEvents(uint32_t events) = 0;

 protected:
  ~EventHandler() = default;
};

class UringPoller;

// One event loop, owned by one thread: epoll(7), or io_uring (net/uring_poller.h) when `engine`
// says so and the ring can be set up (else epoll, logged). Everything but Post() and Stop() must
// be called from the loop's own thread.
class EventLoop {
 public:
  using TimerId = uint64_t;

  // `recv_ring`: the io_uring engine's receive ring (tests shrink it).
  explicit EventLoop(IoEngine engine = IoEngine::kEpoll, RecvRingShape recv_ring = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool Add(int fd, uint32_t events, EventHandler* handler);
  void Modify(int fd, uint32_t events, EventHandler* handler);
  void Remove(int fd);

  // The engine this loop runs.
  IoEngine engine() const;
  // io_uring: plain-socket writes go through QueueWrite() instead of write(2)/writev(2).
  bool batches_writes() const { return uring_ != nullptr; }
  // io_uring only: `writer` (of the registered `fd`) writes at the end of this pass, in the
  // submission that waits for the next events (see BatchedWriter). Once per pass per writer;
  // Remove(fd) drops it.
  void QueueWrite(int fd, BatchedWriter* writer);

  // io_uring: the registered `fd` (a connected plain stream socket) is received with a multishot
  // receive into the loop's buffer ring from now until Remove(fd) (net/uring_poller.h); epoll:
  // nothing. Either way its owner reads it with Read().
  void ReceiveInRing(int fd);
  // read(2) semantics: under io_uring, for a ReceiveInRing fd, the bytes the ring received (no
  // syscall; -1/EAGAIN when none), else read(2).
  ssize_t Read(int fd, char* data, size_t size);
  // Any thread; zeros under epoll.
  RecvRingStats recv_stats() const;

  // Runs `fn` on the loop thread after `delay_ms` milliseconds. Timers are for rare events
  // (reconnect backoff, retries, ticks), not per request.
  TimerId RunAfter(int64_t delay_ms, std::function<void()> fn);
  void Cancel(TimerId id);

  // Thread-safe: queues `fn` to run on the loop thread and wakes the loop.
  void Post(std::function<void()> fn);
  // Thread-safe: makes Run() return after the current pass.
  void Stop();

  // Called once per pass after the ready events (and due timers) were handled, before the loop
  // sleeps again: the place to flush batched writes.
  void SetBeforeSleep(std::function<void()> fn) { before_sleep_ = std::move(fn); }

  void Run();

  // Monotonic milliseconds and nanoseconds, both read once at the start of each pass: the time
  // the pass's events were known to be ready (one clock read per pass, not per request).
  int64_t now_ms() const { return now_ms_; }
  int64_t now_ns() const { return now_ns_; }
  static int64_t MonotonicMs();

 private:
  class Wakeup;
  void RunEpoll();
  void RunUring();
  void UpdateNow();
  void EndPass();
  void RunPosted();
  void RunDueTimers();
  int NextTimeoutMs() const;

  std::unique_ptr<UringPoller> uring_;  // null: epoll
  int epoll_fd_ = -1;
  int wake_fd_;
  std::unique_ptr<Wakeup> wakeup_;
  bool stopping_ = false;
  int64_t now_ms_ = 0;
  int64_t now_ns_ = 0;
  std::function<void()> before_sleep_;

  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mu_
  std::vector<std::function<void()>> running_;

  TimerId next_timer_id_ = 1;
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> timers_;
  absl::flat_hash_map<TimerId, int64_t> timer_deadlines_;
};

}  // namespace slotplane::dataplane
