#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace slotplane::dataplane {

// A listening Unix domain socket at `path`, non-blocking, as Redis's `unixsocket`: a file left at
// `path` (a previous run's socket) is unlinked before bind; `perm` (e.g. 0700) is applied with
// chmod, and 0 leaves the permissions the umask gives, as Redis's `unixsocketperm 0`.
// SO_REUSEPORT does not apply to such a socket: the proxy opens one and every worker watches it
// (EPOLLEXCLUSIVE).
absl::StatusOr<int> ListenUnix(const std::string& path, int perm, int backlog);

// Closes a socket from ListenUnix (fd < 0: none) and removes its file. Unlinking alone is enough
// to refuse new connections while the fd is still watched elsewhere.
void CloseUnixListener(int fd, const std::string& path);

}  // namespace slotplane::dataplane
