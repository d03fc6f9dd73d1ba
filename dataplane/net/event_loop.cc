#include "dataplane/net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/logging.h"
#include "dataplane/net/raw_io.h"
#include "dataplane/net/uring_poller.h"

namespace slotplane::dataplane {
namespace {
constexpr int kMaxEventsPerPass = 256;
}  // namespace

// The eventfd that Post() writes: runs the posted functions.
class EventLoop::Wakeup final : public EventHandler {
 public:
  explicit Wakeup(EventLoop* loop) : loop_(loop) {}
  void OnEvents(uint32_t) override { loop_->RunPosted(); }

 private:
  EventLoop* loop_;
};

EventLoop::EventLoop(IoEngine engine, RecvRingShape recv_ring)
    : wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), wakeup_(std::make_unique<Wakeup>(this)) {
  if (engine == IoEngine::kIoUring) {
    uring_ = UringPoller::Create(recv_ring);
    if (uring_ == nullptr) {
      SP_LOG(kWarning) << "io_uring ring not available, using epoll";
    }
  }
  if (uring_ == nullptr) epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if ((uring_ == nullptr && epoll_fd_ < 0) || wake_fd_ < 0) {
    SP_LOG(kError) << "cannot create an event loop: " << strerror(errno);
    std::abort();
  }
  Add(wake_fd_, EPOLLIN, wakeup_.get());
  UpdateNow();
}

EventLoop::~EventLoop() {
  uring_.reset();
  close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

IoEngine EventLoop::engine() const { return uring_ ? IoEngine::kIoUring : IoEngine::kEpoll; }

void EventLoop::QueueWrite(int fd, BatchedWriter* writer) { uring_->QueueWrite(fd, writer); }

void EventLoop::ReceiveInRing(int fd) {
  if (uring_) uring_->ReceiveInRing(fd);
}

ssize_t EventLoop::Read(int fd, char* data, size_t size) {
  if (uring_) return uring_->Receive(fd, data, size);
  return RawRead(fd, data, size);
}

RecvRingStats EventLoop::recv_stats() const {
  return uring_ ? uring_->recv_stats() : RecvRingStats{};
}

int64_t EventLoop::MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void EventLoop::UpdateNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_ns_ = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  now_ms_ = now_ns_ / 1000000;
}

bool EventLoop::Add(int fd, uint32_t events, EventHandler* handler) {
  if (uring_) return uring_->Add(fd, events, handler);
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void EventLoop::Modify(int fd, uint32_t events, EventHandler* handler) {
  if (uring_) {
    uring_->Modify(fd, events, handler);
    return;
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Remove(int fd) {
  if (uring_) {
    uring_->Remove(fd);
    return;
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::RunAfter(int64_t delay_ms, std::function<void()> fn) {
  TimerId id = next_timer_id_++;
  int64_t deadline = MonotonicMs() + (delay_ms > 0 ? delay_ms : 0);
  timers_.emplace(std::make_pair(deadline, id), std::move(fn));
  timer_deadlines_[id] = deadline;
  return id;
}

void EventLoop::Cancel(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase({it->second, id});
  timer_deadlines_.erase(it);
}

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

void EventLoop::Stop() {
  Post([this] { stopping_ = true; });
}

void EventLoop::RunPosted() {
  uint64_t count;
  ssize_t ignored = read(wake_fd_, &count, sizeof(count));
  (void)ignored;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    running_.swap(posted_);
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

void EventLoop::RunDueTimers() {
  while (!timers_.empty() && timers_.begin()->first.first <= now_ms_) {
    auto node = timers_.extract(timers_.begin());
    timer_deadlines_.erase(node.key().second);
    node.mapped()();
  }
}

int EventLoop::NextTimeoutMs() const {
  if (timers_.empty()) return -1;
  int64_t wait = timers_.begin()->first.first - MonotonicMs();
  return wait < 0 ? 0 : static_cast<int>(wait > 60000 ? 60000 : wait);
}

void EventLoop::Run() {
  if (uring_) {
    RunUring();
  } else {
    RunEpoll();
  }
}

void EventLoop::EndPass() {
  RunDueTimers();
  if (before_sleep_) before_sleep_();
}

void EventLoop::RunEpoll() {
  epoll_event events[kMaxEventsPerPass];
  while (!stopping_) {
    int n = RawEpollWait(epoll_fd_, events, kMaxEventsPerPass, NextTimeoutMs());
    if (n < 0 && errno != EINTR) {
      SP_LOG(kError) << "epoll_wait: " << strerror(errno);
      break;
    }
    UpdateNow();
    for (int i = 0; i < n; ++i) {
      static_cast<EventHandler*>(events[i].data.ptr)->OnEvents(events[i].events);
    }
    EndPass();
  }
}

// Write results first: their owners learn what went out before any new event for them.
void EventLoop::RunUring() {
  while (!stopping_) {
    const int err = uring_->Wait(NextTimeoutMs());
    if (err < 0) {
      SP_LOG(kError) << "io_uring wait: " << strerror(-err);
      break;
    }
    UpdateNow();
    for (const UringPoller::Written& w : uring_->written()) w.writer->OnWritten(w.result);
    for (const UringPoller::Ready& r : uring_->ready()) r.handler->OnEvents(r.events);
    EndPass();
  }
}

}  // namespace slotplane::dataplane
