#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/net/batched_writer.h"
#include "dataplane/net/event_loop.h"

namespace slotplane::dataplane {

// The io_uring engine of an EventLoop: readiness and batched writes, one io_uring_enter per loop
// pass for both.
//
// Readiness: each registered fd has a one-shot IORING_OP_POLL_ADD, re-armed (a submission queue
// entry, no syscall) after its event was handled. Arming checks the fd's state at once, so the
// handlers see epoll's level-triggered behaviour: a handler that left bytes unread (a read cap,
// a paused client) hears of them again. Modify() and Remove() cancel the armed poll with
// IORING_OP_POLL_REMOVE and bump the fd's generation, which is in every poll's user_data, so a
// completion from before the change is dropped, never delivered to a handler that is gone.
//
// Writes: QueueWrite() lists a BatchedWriter; at the end of the pass its bytes are gathered and
// sent with IORING_OP_SENDMSG and MSG_DONTWAIT, which the kernel carries out inline while
// submitting (a full socket buffer gives a short count or -EAGAIN, it never waits), in the same
// io_uring_enter that waits for the next events. The results are handed back before the next
// pass's events, so the gathered memory is never touched while the kernel may read it.
//
// Owned by one EventLoop and used on its thread only (Add may run before the loop's thread
// starts: the ring only submits from the loop's thread, which the first Wait() binds it to).
class UringPoller {
 public:
  struct Ready {
    EventHandler* handler;
    uint32_t events;  // EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP
  };
  struct Written {
    BatchedWriter* writer;
    ssize_t result;
  };

  // Null when the ring cannot be set up (the caller falls back to epoll).
  static std::unique_ptr<UringPoller> Create();
  ~UringPoller();
  UringPoller(const UringPoller&) = delete;
  UringPoller& operator=(const UringPoller&) = delete;

  bool Add(int fd, uint32_t events, EventHandler* handler);
  void Modify(int fd, uint32_t events, EventHandler* handler);
  // Also drops a write queued for `fd` this pass.
  void Remove(int fd);
  // `writer` is asked for its bytes at the end of this pass; once per pass per writer.
  void QueueWrite(int fd, BatchedWriter* writer);

  // Submits this pass's writes and poll changes and waits up to `timeout_ms` (-1: no limit) for
  // an event; then written() and ready() hold what completed. A negative errno when the ring
  // failed.
  int Wait(int timeout_ms);
  const std::vector<Written>& written() const { return written_; }
  const std::vector<Ready>& ready() const { return ready_; }

 private:
  struct Slot {
    EventHandler* handler = nullptr;  // null: not registered
    uint32_t events = 0;
    uint32_t generation = 0;
    bool armed = false;       // a poll is in the kernel
    bool arm_queued = false;  // listed in to_arm_
    // Fired with nothing the handler asked for (a half-close while it waits for neither
    // direction): not re-armed, which would spin, until the next Modify().
    bool parked = false;
  };
  struct PendingWrite {
    int fd;
    BatchedWriter* writer;
  };

  UringPoller() = default;
  Slot* SlotOf(int fd);
  io_uring_sqe* GetSqe();
  void QueueArm(int fd, Slot* slot);
  void Disarm(int fd, Slot* slot);
  void PrepareWrites();
  void ArmPolls();
  void Reap();
  void Complete(uint64_t user_data, int result);

  io_uring ring_{};
  bool enable_pending_ = false;  // created disabled: enabled by the first Wait(), on its thread
  std::vector<Slot> slots_;      // by fd
  std::vector<int> to_arm_;
  std::vector<PendingWrite> writes_;
  std::vector<BatchedWriter*> in_flight_;  // this submission's writes, by user_data index
  size_t writes_outstanding_ = 0;
  std::vector<msghdr> msgs_;
  std::vector<iovec> iovs_;
  std::vector<Written> written_;
  std::vector<Ready> ready_;
};

}  // namespace slotplane::dataplane
