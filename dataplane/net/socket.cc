#include "dataplane/net/socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace slotplane::dataplane {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Fills `addr` from a host string; numeric forms never block.
bool ResolveHost(const std::string& host, uint16_t port, sockaddr_storage* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof(*addr));
  std::string h = host;
  if (h.empty() || h == "*") h = "0.0.0.0";
  auto* v4 = reinterpret_cast<sockaddr_in*>(addr);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(addr);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return true;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(h.c_str(), nullptr, &hints, &result) != 0 || result == nullptr) return false;
  std::memcpy(addr, result->ai_addr, result->ai_addrlen);
  *len = result->ai_addrlen;
  freeaddrinfo(result);
  if (addr->ss_family == AF_INET) v4->sin_port = htons(port);
  if (addr->ss_family == AF_INET6) v6->sin6_port = htons(port);
  return true;
}

}  // namespace

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void SetKeepAlive(int fd, int interval_seconds) {
  if (interval_seconds <= 0) return;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  // Same probing schedule as Redis's anetKeepAlive.
  int idle = interval_seconds;
  int intvl = interval_seconds / 3 > 0 ? interval_seconds / 3 : 1;
  int count = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

absl::StatusOr<int> Listen(const std::string& host, uint16_t port, int backlog) {
  sockaddr_storage addr;
  socklen_t len;
  if (!ResolveHost(host, port, &addr, &len)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve bind address '", host, "'"));
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, backlog) != 0) {
    absl::Status status = Errno(absl::StrCat("cannot listen on ", host, ":", port));
    close(fd);
    return status;
  }
  return fd;
}

absl::StatusOr<uint16_t> ReservePort(const std::string& host, uint16_t port) {
  sockaddr_storage addr;
  socklen_t len;
  if (!ResolveHost(host, port, &addr, &len)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve bind address '", host, "'"));
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (addr.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    absl::Status status = Errno(absl::StrCat("cannot listen on ", host, ":", port));
    close(fd);
    return status;
  }
  uint16_t bound = LocalPort(fd);
  close(fd);
  return bound;
}

absl::StatusOr<int> ConnectNonBlocking(const std::string& host, uint16_t port) {
  sockaddr_storage addr;
  socklen_t len;
  if (!ResolveHost(host, port, &addr, &len)) {
    return absl::UnavailableError(absl::StrCat("cannot resolve '", host, "'"));
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    absl::Status status = Errno("connect");
    close(fd);
    return status;
  }
  SetNoDelay(fd);
  return fd;
}

int SocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

uint16_t LocalPort(int fd) {
  sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

namespace {

std::string FormatAddress(sockaddr_storage& addr, socklen_t len) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_UNIX) {
    // Redis shows a unix-socket client as "PATH:0" (its listener's path, for both ends).
    auto* un = reinterpret_cast<sockaddr_un*>(&addr);
    const size_t offset = offsetof(sockaddr_un, sun_path);
    const size_t max = len > offset ? len - offset : 0;
    return absl::StrCat(std::string(un->sun_path, strnlen(un->sun_path, max)), ":0");
  }
  if (addr.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(v4->sin_port));
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
  return absl::StrCat("[", host, "]:", ntohs(v6->sin6_port));
}

}  // namespace

std::string PeerAddress(int fd) {
  sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  // An accepted unix-socket client is unnamed: it is shown by the path it connected to.
  if (addr.ss_family == AF_UNIX) return LocalAddress(fd);
  return FormatAddress(addr, len);
}

std::string LocalAddress(int fd) {
  sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  return FormatAddress(addr, len);
}

}  // namespace slotplane::dataplane
