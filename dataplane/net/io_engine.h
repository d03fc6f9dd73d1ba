#pragma once

#include <cstdint>
#include <string_view>

namespace slotplane::dataplane {

// How a worker's EventLoop waits and writes: epoll(7) with a syscall per write, or io_uring with
// the writes of a loop pass and the wait in one io_uring_enter (net/uring_poller.h).
enum class IoEngine : uint8_t { kEpoll, kIoUring };

// The `io-engine` option's choices; "auto" picks io_uring when IoUringUsable(), else epoll.
constexpr const char* kIoEngineNames[] = {"auto", "epoll", "io_uring"};

const char* IoEngineName(IoEngine engine);

// The io_uring engine's receive ring (a provided buffer ring, one per worker): `buffers` (a power
// of two, at most 32768) of `buffer_size` bytes, fixed for the loop's life. The default, 256 x 4
// KB = 1 MB per worker: a buffer holds a pipeline of 16 small commands or their replies, and
// every buffer goes back to the ring by the end of the loop pass that filled it, so the ring only
// has to cover one pass's arrivals (one buffer per busy socket, several for large transfers);
// when it runs dry a socket falls back to read(2) for that pass. Tests shrink it.
struct RecvRingShape {
  uint32_t buffers = 256;
  uint32_t buffer_size = 4096;
};

// What a loop's receive ring did since it started (a snapshot, readable from any thread).
struct RecvRingStats {
  uint64_t ring_bytes = 0;      // the ring's fixed memory (0: no ring, reads are read(2))
  uint64_t held_bytes = 0;      // bytes copied out of the ring, kept for owners that did not read
  uint64_t held_bytes_max = 0;  // the most held at once
  uint64_t received_bytes = 0;  // bytes that arrived through the ring
  uint64_t completions = 0;     // receive completions that carried bytes
  uint64_t arms = 0;            // multishot receives submitted (first ones and re-arms)
  uint64_t no_buffers = 0;      // -ENOBUFS: the ring was empty, the owner read(2) instead
  uint64_t fallback_reads = 0;  // read(2) calls made for ring sockets

  // Adds another worker's figures (held_bytes_max: the largest of the two).
  void Add(const RecvRingStats& other) {
    ring_bytes += other.ring_bytes;
    held_bytes += other.held_bytes;
    held_bytes_max = held_bytes_max > other.held_bytes_max ? held_bytes_max : other.held_bytes_max;
    received_bytes += other.received_bytes;
    completions += other.completions;
    arms += other.arms;
    no_buffers += other.no_buffers;
    fallback_reads += other.fallback_reads;
  }
};

// Whether this kernel lets the process set up a ring and supports every operation the io_uring
// engine submits (probed once; seccomp or io_uring_disabled=2 say no). Thread-safe.
bool IoUringUsable();

// The engine `io-engine <name>` selects: "epoll", "io_uring" (epoll, with a warning, when
// IoUringUsable() says no) or "auto".
IoEngine ResolveIoEngine(std::string_view name);

}  // namespace slotplane::dataplane
