#include "dataplane/net/unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace slotplane::dataplane {

absl::StatusOr<int> ListenUnix(const std::string& path, int perm, int backlog) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("unixsocket: the path must have 1 to ",
                                                   sizeof(addr.sun_path) - 1, " characters"));
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  unlink(path.c_str());  // a stale socket of an earlier run, as Redis does
  auto fail = [&](const char* step) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("unixsocket ", path, ": ", step, ": ", std::strerror(error)));
  };
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) return fail("bind");
  if (perm != 0 && chmod(path.c_str(), static_cast<mode_t>(perm)) != 0) {
    absl::Status status = fail("chmod");
    unlink(path.c_str());
    return status;
  }
  if (listen(fd, backlog) != 0) {
    absl::Status status = fail("listen");
    unlink(path.c_str());
    return status;
  }
  return fd;
}

void CloseUnixListener(int fd, const std::string& path) {
  if (fd >= 0) close(fd);
  if (!path.empty()) unlink(path.c_str());
}

}  // namespace slotplane::dataplane
