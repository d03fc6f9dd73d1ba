#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
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
// Receiving (plain-TCP sockets whose owner asked for it with ReceiveInRing): instead of a poll for
// EPOLLIN, a multishot IORING_OP_RECV picks a buffer from a provided buffer ring (RecvRingShape)
// for every arrival; the completions are listed per fd and the handler hears EPOLLIN; its reads go
// through Receive(), which copies from those buffers and gives each back to the ring once drained
// (read(2)'s one copy, no syscall). Buffers still held when the pass ends are copied to the fd's
// held bytes and given back, so no owner keeps a ring buffer beyond one pass and a slow or paused
// owner cannot exhaust the ring; held bytes (or an EOF or error not yet read) make the fd hear
// EPOLLIN again in the next pass, as a level-triggered epoll would. An owner that no longer wants
// EPOLLIN gets its receive cancelled (bytes that arrive before the cancellation takes are held,
// not lost), and so does one holding more than kMaxHeldBytes until it reads them. A receive that
// ends (no IORING_CQE_F_MORE) is re-armed; -ENOBUFS (ring empty) makes the owner's next reads
// read(2) until EAGAIN, and the receive is re-armed in the next pass; EOF and errors are handed
// over as the read returning 0 or -1/errno. Receives carry their own generation (the fd's epoch,
// bumped by Add and Remove), separate from the polls', so a Modify that only changes EPOLLOUT
// leaves the receive alone.
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
  static std::unique_ptr<UringPoller> Create(RecvRingShape shape = {});
  ~UringPoller();
  UringPoller(const UringPoller&) = delete;
  UringPoller& operator=(const UringPoller&) = delete;

  bool Add(int fd, uint32_t events, EventHandler* handler);
  void Modify(int fd, uint32_t events, EventHandler* handler);
  // Also drops a write queued for `fd` this pass.
  void Remove(int fd);
  // `writer` is asked for its bytes at the end of this pass; once per pass per writer.
  void QueueWrite(int fd, BatchedWriter* writer);
  // The registered `fd` (a plain stream socket, connected) receives through the ring from now
  // until Remove(); its owner must read it with Receive() only.
  void ReceiveInRing(int fd);
  // read(2) for `fd`: bytes the ring received first, then (ring empty, or no ring) read(2) itself;
  // -1/EAGAIN when nothing arrived; 0 at EOF; -1/errno after an error.
  ssize_t Receive(int fd, char* data, size_t size);
  // Thread-safe (relaxed): read by PROXY INFO on any worker.
  RecvRingStats recv_stats() const;

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
    // Receiving through the ring (see the class comment).
    bool recv = false;
    bool input_listed = false;   // in input_fds_
    bool fallback_read = false;  // -ENOBUFS: read(2) until EAGAIN or the next receive
    uint8_t recv_state = 0;      // kRecvIdle, kRecvArmed, kRecvCancelling
    int recv_end = 0;            // 0, kRecvEof, or the errno the receive ended with
    uint32_t recv_epoch = 0;
    int32_t chunk_head = -1;  // the ring buffers holding this fd's bytes, oldest first
    int32_t chunk_tail = -1;
    uint64_t ready_pass = 0;  // ready_[ready_index] is this fd's entry when == pass_
    uint32_t ready_index = 0;
    std::string held;  // bytes out of the ring the owner has not read yet (before the chunks)
    size_t held_offset = 0;
  };
  // The bytes of one ring buffer (indexed by buffer id) that wait for their fd's owner.
  struct Chunk {
    uint32_t offset = 0;
    uint32_t length = 0;
    int32_t next = -1;
  };
  struct PendingWrite {
    int fd;
    BatchedWriter* writer;
  };

  explicit UringPoller(RecvRingShape shape) : shape_(shape) {}
  Slot* SlotOf(int fd);
  bool SetUpRecvRing();
  bool RecvActive(const Slot& slot) const {
    return slot.recv && buffer_ring_ != nullptr && recv_supported_;
  }
  static bool HasInput(const Slot& slot);
  char* BufferOf(uint32_t id) { return buffer_memory_.get() + size_t{id} * shape_.buffer_size; }
  void ReturnBuffer(uint32_t id);
  void DropInput(Slot* slot);
  void ListInput(int fd, Slot* slot);
  size_t TakeInput(Slot* slot, char* data, size_t size);
  bool SettleInput();
  void DeliverInput();
  void ArmRecv(int fd, Slot* slot);
  void CancelRecv(int fd, Slot* slot);
  void CompleteRecv(uint64_t user_data, int result, uint32_t flags);
  void MarkReady(Slot* slot, uint32_t events);
  io_uring_sqe* GetSqe();
  void QueueArm(int fd, Slot* slot);
  void Disarm(int fd, Slot* slot);
  void PrepareWrites();
  void ArmPolls();
  void Reap();
  void Complete(uint64_t user_data, int result, uint32_t flags);

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
  uint64_t pass_ = 0;

  RecvRingShape shape_;
  bool recv_set_up_ = false;  // SetUpRecvRing ran (on the loop's thread, at the first Wait)
  bool recv_supported_ = true;
  io_uring_buf_ring* buffer_ring_ = nullptr;  // null: no ring, ring sockets read(2)
  size_t buffer_ring_bytes_ = 0;
  std::unique_ptr<char[]> buffer_memory_;
  std::vector<Chunk> chunks_;   // by buffer id
  std::vector<int> input_fds_;  // fds with bytes, an EOF or an error their owner has not read
  // Written by the loop's thread only, read by any: a relaxed load and store, no locked add.
  class Count {
   public:
    void Add(uint64_t n = 1) { Set(Get() + n); }
    void Sub(uint64_t n) { Set(Get() - n); }
    void Set(uint64_t v) { value_.store(v, std::memory_order_relaxed); }
    uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

   private:
    std::atomic<uint64_t> value_{0};
  };
  struct Counts {
    Count ring_bytes, held_bytes, held_bytes_max, received_bytes, completions, arms, no_buffers,
        fallback_reads;
  } counts_;
};

}  // namespace slotplane::dataplane
