#pragma once

#include <sys/types.h>
#include <sys/uio.h>

namespace slotplane::dataplane {

// A connection whose writes the io_uring engine batches (EventLoop::QueueWrite): its bytes are
// gathered once, at the very end of the loop pass, sent with MSG_DONTWAIT in the submission that
// also waits for the next events, and the result is handed back at the start of the next pass,
// before any event. Between GatherWrite() and OnWritten() no other code of the loop runs, so the
// gathered memory stays as it was without any locking. Loop thread only.
class BatchedWriter {
 public:
  // Fills at most `max` iovecs with the bytes to write, in order; returns how many (0: nothing).
  virtual int GatherWrite(iovec* iov, int max) = 0;
  // What sendmsg(2) returned for those bytes: the count written (possibly short), or -errno
  // (-EAGAIN: the kernel's buffer is full; wait for EPOLLOUT). 0 when nothing was gathered.
  virtual void OnWritten(ssize_t result) = 0;

 protected:
  ~BatchedWriter() = default;
};

}  // namespace slotplane::dataplane
