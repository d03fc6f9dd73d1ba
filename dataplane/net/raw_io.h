#pragma once

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>

namespace slotplane::dataplane {

// read(2), write(2), writev(2) and epoll_wait(2) for the sockets and the event loop, straight to
// the kernel. glibc's wrappers of these are thread-cancellation points: each call enables and
// then disables asynchronous cancellation around the system call, about 70 instructions per call,
// which at pipeline depth 1 was more than the proxy's own work on a request's bytes. slotplane
// never cancels a thread, so it has no use for them. Same results and errno as the wrappers.
inline ssize_t RawRead(int fd, void* data, size_t size) {
  return syscall(SYS_read, fd, data, size);
}
inline ssize_t RawWrite(int fd, const void* data, size_t size) {
  return syscall(SYS_write, fd, data, size);
}
inline ssize_t RawWritev(int fd, const iovec* iov, int count) {
  return syscall(SYS_writev, fd, iov, count);
}
inline int RawEpollWait(int epoll_fd, epoll_event* events, int max_events, int timeout_ms) {
  return static_cast<int>(syscall(SYS_epoll_wait, epoll_fd, events, max_events, timeout_ms));
}

}  // namespace slotplane::dataplane
