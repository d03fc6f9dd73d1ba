#include "dataplane/net/uring_poller.h"

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/logging.h"

namespace slotplane::dataplane {
namespace {

constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 16384;
// iovecs one write may use; a connection with more to send is asked again next pass.
constexpr int kMaxIovPerWrite = 64;
constexpr size_t kIovStorage = 8192;
constexpr size_t kMsgStorage = 1024;
// While writes are in flight the wait is capped, so that a short write's result (a full socket
// buffer: its owner must ask for EPOLLOUT) is seen soon even when nothing else happens.
constexpr int kWaitWithWritesMs = 1;
// Flags epoll knows and poll(2) masks do not.
constexpr uint32_t kNotPollFlags = EPOLLEXCLUSIVE | EPOLLET | EPOLLONESHOT | EPOLLWAKEUP;

// user_data: the kind in the top two bits; a poll's fd and generation, or a write's index.
constexpr uint64_t kKindShift = 62;
constexpr uint64_t kPollKind = 1;
constexpr uint64_t kWriteKind = 2;
constexpr uint64_t kIgnoredKind = 3;
constexpr uint32_t kGenerationMask = 0x3fffffff;

uint64_t PollTag(int fd, uint32_t generation) {
  return kPollKind << kKindShift | static_cast<uint64_t>(generation & kGenerationMask) << 32 |
         static_cast<uint32_t>(fd);
}

}  // namespace

std::unique_ptr<UringPoller> UringPoller::Create() {
  std::unique_ptr<UringPoller> poller(new UringPoller());
  // One thread submits and reaps (the loop's), so completions' task work can wait for the wait
  // (DEFER_TASKRUN) instead of interrupting the thread; the ring is bound to that thread when
  // the loop first waits (R_DISABLED until then), as the loop may be built on another thread.
  // Kernels before 6.1 take the plain ring.
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                 IORING_SETUP_R_DISABLED;
  params.cq_entries = kCqEntries;
  int err = io_uring_queue_init_params(kSqEntries, &poller->ring_, &params);
  poller->enable_pending_ = err == 0;
  if (err == -EINVAL) {
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = kCqEntries;
    err = io_uring_queue_init_params(kSqEntries, &poller->ring_, &params);
  }
  if (err < 0) {
    SP_LOG(kWarning) << "io_uring_queue_init: " << std::strerror(-err);
    return nullptr;
  }
  poller->msgs_.resize(kMsgStorage);
  poller->iovs_.resize(kIovStorage);
  return poller;
}

UringPoller::~UringPoller() { io_uring_queue_exit(&ring_); }

UringPoller::Slot* UringPoller::SlotOf(int fd) {
  if (fd < 0) return nullptr;
  if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(static_cast<size_t>(fd) + 1);
  return &slots_[static_cast<size_t>(fd)];
}

// A full submission queue is submitted at once (rare: kSqEntries per pass), which frees it.
io_uring_sqe* UringPoller::GetSqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    if (const int err = io_uring_submit(&ring_); err < 0) {
      SP_LOG(kError) << "io_uring submit: " << std::strerror(-err);
      std::abort();  // the loop cannot go on without registering its fds
    }
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

bool UringPoller::Add(int fd, uint32_t events, EventHandler* handler) {
  Slot* slot = SlotOf(fd);
  if (slot == nullptr) return false;
  // Still registered: the fd was closed without Remove() and its number reused (epoll forgets a
  // closed fd by itself). The old poll goes.
  if (slot->handler != nullptr && slot->armed) Disarm(fd, slot);
  slot->handler = handler;
  slot->events = events;
  slot->parked = false;
  ++slot->generation;
  QueueArm(fd, slot);
  return true;
}

void UringPoller::Modify(int fd, uint32_t events, EventHandler* handler) {
  Slot* slot = SlotOf(fd);
  if (slot == nullptr || slot->handler == nullptr) return;
  slot->handler = handler;
  if (slot->events == events && !slot->parked) return;
  slot->events = events;
  slot->parked = false;
  if (slot->armed) Disarm(fd, slot);
  QueueArm(fd, slot);
}

void UringPoller::Remove(int fd) {
  Slot* slot = SlotOf(fd);
  if (slot == nullptr || slot->handler == nullptr) return;
  if (slot->armed) Disarm(fd, slot);
  ++slot->generation;
  slot->handler = nullptr;
  slot->parked = false;
  writes_.erase(std::remove_if(writes_.begin(), writes_.end(),
                               [fd](const PendingWrite& w) { return w.fd == fd; }),
                writes_.end());
}

void UringPoller::QueueWrite(int fd, BatchedWriter* writer) { writes_.push_back({fd, writer}); }

void UringPoller::QueueArm(int fd, Slot* slot) {
  if (slot->arm_queued) return;
  slot->arm_queued = true;
  to_arm_.push_back(fd);
}

// The cancelled poll's completion (or the poll's own, if it fired first) carries the old
// generation and is dropped.
void UringPoller::Disarm(int fd, Slot* slot) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_poll_remove(sqe, PollTag(fd, slot->generation));
  sqe->user_data = kIgnoredKind << kKindShift;
  slot->armed = false;
  ++slot->generation;
}

void UringPoller::PrepareWrites() {
  size_t iov_used = 0;
  size_t msg_used = 0;
  for (const PendingWrite& w : writes_) {
    if (iov_used + kMaxIovPerWrite > iovs_.size() || msg_used == msgs_.size()) {
      // The kernel copies a sendmsg's header and iovecs when it is submitted.
      io_uring_submit(&ring_);
      iov_used = msg_used = 0;
    }
    iovec* iov = &iovs_[iov_used];
    const int count = w.writer->GatherWrite(iov, kMaxIovPerWrite);
    if (count <= 0) {
      written_.push_back({w.writer, 0});
      continue;
    }
    iov_used += static_cast<size_t>(count);
    msghdr* msg = &msgs_[msg_used++];
    *msg = msghdr{};
    msg->msg_iov = iov;
    msg->msg_iovlen = static_cast<size_t>(count);
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_sendmsg(sqe, w.fd, msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    sqe->user_data = kWriteKind << kKindShift | in_flight_.size();
    in_flight_.push_back(w.writer);
    ++writes_outstanding_;
  }
  writes_.clear();
}

void UringPoller::ArmPolls() {
  for (int fd : to_arm_) {
    Slot& slot = slots_[static_cast<size_t>(fd)];
    slot.arm_queued = false;
    if (slot.handler == nullptr || slot.armed || slot.parked) continue;
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_poll_add(sqe, fd, slot.events & ~kNotPollFlags);
    sqe->user_data = PollTag(fd, slot.generation);
    slot.armed = true;
  }
  to_arm_.clear();
}

int UringPoller::Wait(int timeout_ms) {
  if (enable_pending_) {
    enable_pending_ = false;
    // liburing 2.3 declares io_uring_enable_rings() but does not export it.
    if (syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) <
        0) {
      return -errno;
    }
  }
  written_.clear();
  ready_.clear();
  in_flight_.clear();
  PrepareWrites();
  ArmPolls();
  unsigned wait_nr = 1;
  if (!in_flight_.empty()) {
    wait_nr += static_cast<unsigned>(in_flight_.size());
    if (timeout_ms < 0 || timeout_ms > kWaitWithWritesMs) timeout_ms = kWaitWithWritesMs;
  }
  io_uring_cqe* cqe = nullptr;
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ms / 1000;
  ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
  int err = io_uring_submit_and_wait_timeout(&ring_, &cqe, wait_nr, timeout_ms < 0 ? nullptr : &ts,
                                             nullptr);
  if (err < 0 && err != -ETIME && err != -EINTR && err != -EAGAIN && err != -EBUSY) return err;
  Reap();
  // A safety net: MSG_DONTWAIT writes complete while being submitted, so this does not wait.
  while (writes_outstanding_ > 0) {
    err = io_uring_wait_cqe(&ring_, &cqe);
    if (err < 0 && err != -EINTR) return err;
    Reap();
  }
  return 0;
}

void UringPoller::Reap() {
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    Complete(cqe->user_data, cqe->res);
  }
  io_uring_cq_advance(&ring_, seen);
}

void UringPoller::Complete(uint64_t user_data, int result) {
  const uint64_t kind = user_data >> kKindShift;
  if (kind == kWriteKind) {
    const size_t index = static_cast<size_t>(user_data & 0xffffffff);
    written_.push_back({in_flight_[index], static_cast<ssize_t>(result)});
    --writes_outstanding_;
    return;
  }
  if (kind != kPollKind) return;
  const int fd = static_cast<int>(user_data & 0xffffffff);
  const uint32_t generation = static_cast<uint32_t>(user_data >> 32) & kGenerationMask;
  if (static_cast<size_t>(fd) >= slots_.size()) return;
  Slot& slot = slots_[static_cast<size_t>(fd)];
  if (slot.handler == nullptr || !slot.armed || (slot.generation & kGenerationMask) != generation) {
    return;  // from before a Modify or Remove
  }
  slot.armed = false;
  uint32_t events = EPOLLERR;
  if (result >= 0) {
    events = static_cast<uint32_t>(result) & (slot.events | EPOLLERR | EPOLLHUP);
  }
  if (events == 0) {
    slot.parked = true;
    return;
  }
  QueueArm(fd, &slot);
  ready_.push_back({slot.handler, events});
}

}  // namespace slotplane::dataplane
