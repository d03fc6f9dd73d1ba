#include "dataplane/net/uring_poller.h"

#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/logging.h"
#include "dataplane/net/raw_io.h"

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

// user_data: the kind in the top two bits; a poll's or a receive's fd and generation, or a
// write's index. liburing's own timeout entry (older kernels) is all ones: a receive of fd -1.
constexpr uint64_t kKindShift = 62;
constexpr uint64_t kIgnoredKind = 0;
constexpr uint64_t kPollKind = 1;
constexpr uint64_t kWriteKind = 2;
constexpr uint64_t kRecvKind = 3;
constexpr uint32_t kGenerationMask = 0x3fffffff;

uint64_t Tag(uint64_t kind, int fd, uint32_t generation) {
  return kind << kKindShift | static_cast<uint64_t>(generation & kGenerationMask) << 32 |
         static_cast<uint32_t>(fd);
}
uint64_t PollTag(int fd, uint32_t generation) { return Tag(kPollKind, fd, generation); }

// The receive ring's buffer group.
constexpr uint16_t kBufferGroup = 0;
constexpr uint8_t kRecvIdle = 0;
constexpr uint8_t kRecvArmed = 1;
constexpr uint8_t kRecvCancelling = 2;  // cancelled; its last completion has not come yet
constexpr int kRecvEof = -1;
// Bytes one fd may hold out of the ring before its receive is cancelled until its owner reads
// them: epoll leaves such bytes in the socket, where TCP's window slows the sender down.
constexpr size_t kMaxHeldBytes = 64 * 1024;

}  // namespace

std::unique_ptr<UringPoller> UringPoller::Create(RecvRingShape shape) {
  if (shape.buffers == 0 || shape.buffers > 32768 || (shape.buffers & (shape.buffers - 1)) != 0 ||
      shape.buffer_size == 0) {
    shape = RecvRingShape{};
  }
  std::unique_ptr<UringPoller> poller(new UringPoller(shape));
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

UringPoller::~UringPoller() {
  io_uring_queue_exit(&ring_);  // unregisters the buffer ring
  if (buffer_ring_ != nullptr) munmap(buffer_ring_, buffer_ring_bytes_);
}

// Registered from the loop's thread (a single-issuer ring accepts it from no other). A kernel
// without buffer rings (before 5.19) leaves every socket on POLL_ADD and read(2).
bool UringPoller::SetUpRecvRing() {
  recv_set_up_ = true;
  // For benchmarks: the same binary with polls and read(2) (tests/bench/io_engine_syscalls.sh).
  if (const char* env = std::getenv("SLOTPLANE_IO_URING_RECV_RING");
      env != nullptr && std::strcmp(env, "off") == 0) {
    SP_LOG(kInfo) << "io_uring receive ring off (SLOTPLANE_IO_URING_RECV_RING=off)";
    return false;
  }
  const size_t bytes = size_t{shape_.buffers} * sizeof(io_uring_buf);
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (memory == MAP_FAILED) return false;
  auto* ring = static_cast<io_uring_buf_ring*>(memory);
  io_uring_buf_ring_init(ring);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(ring);
  reg.ring_entries = shape_.buffers;
  reg.bgid = kBufferGroup;
  if (const int err = io_uring_register_buf_ring(&ring_, &reg, 0); err != 0) {
    SP_LOG(kInfo) << "io_uring buffer ring not available (" << std::strerror(-err)
                  << "): sockets are read with read(2)";
    munmap(memory, bytes);
    return false;
  }
  buffer_ring_ = ring;
  buffer_ring_bytes_ = bytes;
  buffer_memory_.reset(new char[size_t{shape_.buffers} * shape_.buffer_size]);
  chunks_.assign(shape_.buffers, Chunk{});
  const int mask = io_uring_buf_ring_mask(shape_.buffers);
  for (uint32_t id = 0; id < shape_.buffers; ++id) {
    io_uring_buf_ring_add(ring, BufferOf(id), shape_.buffer_size, static_cast<uint16_t>(id), mask,
                          static_cast<int>(id));
  }
  io_uring_buf_ring_advance(ring, static_cast<int>(shape_.buffers));
  counts_.ring_bytes.Set(size_t{shape_.buffers} * shape_.buffer_size + bytes);
  return true;
}

RecvRingStats UringPoller::recv_stats() const {
  RecvRingStats stats;
  stats.ring_bytes = counts_.ring_bytes.Get();
  stats.held_bytes = counts_.held_bytes.Get();
  stats.held_bytes_max = counts_.held_bytes_max.Get();
  stats.received_bytes = counts_.received_bytes.Get();
  stats.completions = counts_.completions.Get();
  stats.arms = counts_.arms.Get();
  stats.no_buffers = counts_.no_buffers.Get();
  stats.fallback_reads = counts_.fallback_reads.Get();
  return stats;
}

void UringPoller::ReturnBuffer(uint32_t id) {
  io_uring_buf_ring_add(buffer_ring_, BufferOf(id), shape_.buffer_size, static_cast<uint16_t>(id),
                        io_uring_buf_ring_mask(shape_.buffers), 0);
  io_uring_buf_ring_advance(buffer_ring_, 1);
}

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
  if (slot->handler != nullptr && slot->recv_state == kRecvArmed) CancelRecv(fd, slot);
  DropInput(slot);
  slot->handler = handler;
  slot->events = events;
  slot->parked = false;
  ++slot->generation;
  QueueArm(fd, slot);
  return true;
}

void UringPoller::ReceiveInRing(int fd) {
  Slot* slot = SlotOf(fd);
  if (slot == nullptr || slot->handler == nullptr || slot->recv) return;
  slot->recv = true;
  // Until the first Wait sets the ring up, the poll keeps EPOLLIN and Receive() reads.
  if (slot->armed && RecvActive(*slot)) Disarm(fd, slot);
  QueueArm(fd, slot);
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
  if (slot->recv_state == kRecvArmed) CancelRecv(fd, slot);
  DropInput(slot);
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

// A ring socket's EPOLLIN is its receive's; its poll watches the rest (EPOLLOUT, or nothing
// but errors and hang-ups while its owner does not read), and is left out when EPOLLIN is all
// the owner asked for (the receive reports EOF and errors itself).
void UringPoller::ArmPolls() {
  for (int fd : to_arm_) {
    Slot& slot = slots_[static_cast<size_t>(fd)];
    slot.arm_queued = false;
    if (slot.handler == nullptr) continue;
    uint32_t mask = slot.events & ~kNotPollFlags;
    if (RecvActive(slot)) {
      ArmRecv(fd, &slot);
      if ((mask & EPOLLIN) != 0 && (mask & ~uint32_t{EPOLLIN}) == 0) continue;
      mask &= ~uint32_t{EPOLLIN};
    }
    if (slot.armed || slot.parked) continue;
    io_uring_sqe* sqe = GetSqe();
    io_uring_prep_poll_add(sqe, fd, mask);
    sqe->user_data = PollTag(fd, slot.generation);
    slot.armed = true;
  }
  to_arm_.clear();
}

void UringPoller::ArmRecv(int fd, Slot* slot) {
  if ((slot->events & EPOLLIN) == 0) {
    if (slot->recv_state == kRecvArmed) CancelRecv(fd, slot);
    return;
  }
  if (slot->recv_state != kRecvIdle || slot->recv_end != 0 || !recv_supported_ ||
      slot->held.size() - slot->held_offset > kMaxHeldBytes) {
    return;
  }
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  sqe->user_data = Tag(kRecvKind, fd, slot->recv_epoch);
  slot->recv_state = kRecvArmed;
  slot->fallback_read = false;  // the receive takes over from here
  counts_.arms.Add();
}

// Bytes that complete before the cancellation takes are still this fd's (same epoch) and held.
void UringPoller::CancelRecv(int fd, Slot* slot) {
  io_uring_sqe* sqe = GetSqe();
  io_uring_prep_cancel64(sqe, Tag(kRecvKind, fd, slot->recv_epoch), 0);
  sqe->user_data = kIgnoredKind << kKindShift;
  slot->recv_state = kRecvCancelling;
}

bool UringPoller::HasInput(const Slot& slot) {
  return slot.chunk_head >= 0 || slot.held_offset < slot.held.size() || slot.recv_end != 0 ||
         slot.fallback_read;
}

// The fd is gone (Remove) or new (Add): what its old socket received is dropped, buffers go
// back, and the old receive's completions no longer match the epoch.
void UringPoller::DropInput(Slot* slot) {
  for (int32_t id = slot->chunk_head; id >= 0;) {
    const int32_t next = chunks_[static_cast<size_t>(id)].next;
    ReturnBuffer(static_cast<uint32_t>(id));
    id = next;
  }
  slot->chunk_head = slot->chunk_tail = -1;
  counts_.held_bytes.Sub(slot->held.size() - slot->held_offset);
  std::string().swap(slot->held);
  slot->held_offset = 0;
  slot->recv = false;
  slot->recv_state = kRecvIdle;
  slot->recv_end = 0;
  slot->fallback_read = false;
  ++slot->recv_epoch;
}

void UringPoller::ListInput(int fd, Slot* slot) {
  if (slot->input_listed) return;
  slot->input_listed = true;
  input_fds_.push_back(fd);
}

size_t UringPoller::TakeInput(Slot* slot, char* data, size_t size) {
  size_t copied = 0;
  if (slot->held_offset < slot->held.size()) {
    copied = std::min(size, slot->held.size() - slot->held_offset);
    std::memcpy(data, slot->held.data() + slot->held_offset, copied);
    slot->held_offset += copied;
    counts_.held_bytes.Sub(copied);
    if (slot->held_offset == slot->held.size()) {
      std::string().swap(slot->held);  // an idle socket keeps no memory
      slot->held_offset = 0;
    }
  }
  while (copied < size && slot->chunk_head >= 0) {
    const uint32_t id = static_cast<uint32_t>(slot->chunk_head);
    Chunk& chunk = chunks_[id];
    const size_t n = std::min(size - copied, size_t{chunk.length - chunk.offset});
    std::memcpy(data + copied, BufferOf(id) + chunk.offset, n);
    copied += n;
    chunk.offset += static_cast<uint32_t>(n);
    if (chunk.offset == chunk.length) {
      slot->chunk_head = chunk.next;
      if (slot->chunk_head < 0) slot->chunk_tail = -1;
      ReturnBuffer(id);
    }
  }
  return copied;
}

ssize_t UringPoller::Receive(int fd, char* data, size_t size) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[fd].recv) {
    return RawRead(fd, data, size);
  }
  Slot& slot = slots_[static_cast<size_t>(fd)];
  const size_t copied = TakeInput(&slot, data, size);
  if (copied > 0) return static_cast<ssize_t>(copied);
  if (slot.fallback_read || !RecvActive(slot)) {
    counts_.fallback_reads.Add();
    const ssize_t n = RawRead(fd, data, size);
    if (n < 0 && errno == EAGAIN) slot.fallback_read = false;
    return n;
  }
  if (slot.recv_end == kRecvEof) return 0;
  errno = slot.recv_end != 0 ? slot.recv_end : EAGAIN;
  return -1;
}

// At the start of a pass, after every handler of the last one ran: ring buffers still listed
// are copied to their fd's held bytes and go back, so the ring is full again whatever the owners
// do. True when an owner that wants EPOLLIN still has something to read (the wait must not
// block: it hears EPOLLIN again, level-triggered).
bool UringPoller::SettleInput() {
  bool backlog = false;
  size_t kept = 0;
  for (const int fd : input_fds_) {
    Slot& slot = slots_[static_cast<size_t>(fd)];
    for (int32_t id = slot.chunk_head; id >= 0;) {
      const Chunk& chunk = chunks_[static_cast<size_t>(id)];
      slot.held.append(BufferOf(static_cast<uint32_t>(id)) + chunk.offset,
                       chunk.length - chunk.offset);
      counts_.held_bytes.Add(chunk.length - chunk.offset);
      const int32_t next = chunk.next;
      ReturnBuffer(static_cast<uint32_t>(id));
      id = next;
    }
    slot.chunk_head = slot.chunk_tail = -1;
    if (counts_.held_bytes.Get() > counts_.held_bytes_max.Get()) {
      counts_.held_bytes_max.Set(counts_.held_bytes.Get());
    }
    if (slot.handler != nullptr && RecvActive(slot)) {
      const size_t held = slot.held.size() - slot.held_offset;
      if (held > kMaxHeldBytes && slot.recv_state == kRecvArmed) CancelRecv(fd, &slot);
      if (slot.recv_state == kRecvIdle) QueueArm(fd, &slot);  // a throttled fd that caught up
    }
    if (slot.handler == nullptr || !HasInput(slot)) {
      slot.input_listed = false;
      continue;
    }
    if (slot.events & EPOLLIN) backlog = true;
    input_fds_[kept++] = fd;
  }
  input_fds_.resize(kept);
  return backlog;
}

// After the completions of a pass: every fd with something to read whose owner wants it hears
// EPOLLIN (merged with its poll's event, if any).
void UringPoller::DeliverInput() {
  for (const int fd : input_fds_) {
    Slot& slot = slots_[static_cast<size_t>(fd)];
    if (slot.handler != nullptr && (slot.events & EPOLLIN) && HasInput(slot)) {
      MarkReady(&slot, EPOLLIN);
    }
  }
}

void UringPoller::MarkReady(Slot* slot, uint32_t events) {
  if (slot->ready_pass == pass_) {
    ready_[slot->ready_index].events |= events;
    return;
  }
  slot->ready_pass = pass_;
  slot->ready_index = static_cast<uint32_t>(ready_.size());
  ready_.push_back({slot->handler, events});
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
  if (!recv_set_up_) SetUpRecvRing();
  ++pass_;
  written_.clear();
  ready_.clear();
  in_flight_.clear();
  if (SettleInput()) timeout_ms = 0;
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
  DeliverInput();
  return 0;
}

void UringPoller::Reap() {
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    Complete(cqe->user_data, cqe->res, cqe->flags);
  }
  io_uring_cq_advance(&ring_, seen);
}

void UringPoller::Complete(uint64_t user_data, int result, uint32_t flags) {
  const uint64_t kind = user_data >> kKindShift;
  if (kind == kRecvKind) {
    CompleteRecv(user_data, result, flags);
    return;
  }
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
  MarkReady(&slot, events);
}

void UringPoller::CompleteRecv(uint64_t user_data, int result, uint32_t flags) {
  const bool has_buffer = (flags & IORING_CQE_F_BUFFER) != 0;
  const uint32_t id = flags >> IORING_CQE_BUFFER_SHIFT;
  const int fd = static_cast<int>(user_data & 0xffffffff);
  const uint32_t epoch = static_cast<uint32_t>(user_data >> 32) & kGenerationMask;
  Slot* slot = fd >= 0 && static_cast<size_t>(fd) < slots_.size() ? &slots_[fd] : nullptr;
  if (slot == nullptr || slot->handler == nullptr || !slot->recv ||
      (slot->recv_epoch & kGenerationMask) != epoch) {
    if (has_buffer && buffer_ring_ != nullptr) ReturnBuffer(id);  // from a socket that is gone
    return;
  }
  if ((flags & IORING_CQE_F_MORE) == 0) {
    slot->recv_state = kRecvIdle;
    QueueArm(fd, slot);  // re-armed if still wanted (not after EOF or an error)
  }
  if (result > 0 && has_buffer) {
    Chunk& chunk = chunks_[id];
    chunk = Chunk{0, static_cast<uint32_t>(result), -1};
    if (slot->chunk_tail >= 0) {
      chunks_[static_cast<size_t>(slot->chunk_tail)].next = static_cast<int32_t>(id);
    } else {
      slot->chunk_head = static_cast<int32_t>(id);
    }
    slot->chunk_tail = static_cast<int32_t>(id);
    counts_.received_bytes.Add(static_cast<uint64_t>(result));
    counts_.completions.Add();
    ListInput(fd, slot);
    return;
  }
  if (has_buffer) ReturnBuffer(id);
  if (result == 0) {
    slot->recv_end = kRecvEof;
  } else if (result == -ENOBUFS) {
    counts_.no_buffers.Add();
    slot->fallback_read = true;
  } else if (result == -EINVAL) {
    // A kernel without multishot receive (before 6.0): EPOLLIN goes back to the polls.
    SP_LOG(kInfo) << "io_uring multishot receive not supported: sockets are read with read(2)";
    recv_supported_ = false;
    slot->fallback_read = true;
    if (slot->armed) Disarm(fd, slot);
  } else if (result == -ECANCELED) {
    return;
  } else if (result < 0) {
    slot->recv_end = -result;
  }
  ListInput(fd, slot);
}

}  // namespace slotplane::dataplane
