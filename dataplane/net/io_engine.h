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

// Whether this kernel lets the process set up a ring and supports every operation the io_uring
// engine submits (probed once; seccomp or io_uring_disabled=2 say no). Thread-safe.
bool IoUringUsable();

// The engine `io-engine <name>` selects: "epoll", "io_uring" (epoll, with a warning, when
// IoUringUsable() says no) or "auto".
IoEngine ResolveIoEngine(std::string_view name);

}  // namespace slotplane::dataplane
