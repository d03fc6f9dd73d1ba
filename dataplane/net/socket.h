#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace slotplane::dataplane {

// A listening TCP socket on `host:port` (host "0.0.0.0", "::", "*" or an address), non-blocking,
// with SO_REUSEADDR and SO_REUSEPORT so that every worker thread can own a listener on the same
// port and the kernel spreads connections between them.
absl::StatusOr<int> Listen(const std::string& host, uint16_t port, int backlog);

// Checks that no other process listens on `host:port` (our listeners use SO_REUSEPORT, which
// would otherwise silently share the port with another proxy). Returns the port that is free:
// `port` itself, or a kernel-chosen one when `port` is 0.
absl::StatusOr<uint16_t> ReservePort(const std::string& host, uint16_t port);

// Starts a non-blocking connect to `host:port`. Numeric addresses only are resolved without
// blocking; a host name is resolved with getaddrinfo (blocking, so cluster nodes should be
// announced by IP, as Redis does by default).
absl::StatusOr<int> ConnectNonBlocking(const std::string& host, uint16_t port);

// The pending error of a socket whose non-blocking connect finished (0 when connected).
int SocketError(int fd);

void SetNoDelay(int fd);
void SetKeepAlive(int fd, int interval_seconds);

// The port a socket is bound to (for listeners on port 0).
uint16_t LocalPort(int fd);
// "ip:port" ("[v6]:port") of a connected socket's peer / of its own end; "PATH:0" for both ends
// of a unix-socket client, as Redis shows them.
std::string PeerAddress(int fd);
std::string LocalAddress(int fd);

}  // namespace slotplane::dataplane
