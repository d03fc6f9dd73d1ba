#include "dataplane/net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/logging.h"

namespace slotplane::dataplane {
namespace {
constexpr int kMaxEventsPerPass = 256;
// The eventfd's handler pointer: a sentinel no real handler can have.
EventHandler* const kWakeupTag = nullptr;
}  // namespace

EventLoop::EventLoop()
    : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    SP_LOG(kError) << "cannot create an event loop: " << strerror(errno);
    std::abort();
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = kWakeupTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  now_ms_ = MonotonicMs();
}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

int64_t EventLoop::MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool EventLoop::Add(int fd, uint32_t events, EventHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void EventLoop::Modify(int fd, uint32_t events, EventHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

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
  epoll_event events[kMaxEventsPerPass];
  while (!stopping_) {
    int n = epoll_wait(epoll_fd_, events, kMaxEventsPerPass, NextTimeoutMs());
    if (n < 0 && errno != EINTR) {
      SP_LOG(kError) << "epoll_wait: " << strerror(errno);
      break;
    }
    now_ms_ = MonotonicMs();
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<EventHandler*>(events[i].data.ptr);
      if (handler == kWakeupTag) {
        RunPosted();
      } else {
        handler->OnEvents(events[i].events);
      }
    }
    RunDueTimers();
    if (before_sleep_) before_sleep_();
  }
}

}  // namespace slotplane::dataplane
