#include "common/node_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/tls_config.h"

namespace slotplane {
namespace {

constexpr size_t kReadChunk = 16 * 1024;

absl::Status Unavailable(absl::string_view what, int error) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(error)));
}

// Waits until `fd` is ready for `events` or `timeout` passes.
absl::Status WaitFor(int fd, short events, absl::Duration timeout, absl::string_view what) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (n > 0) return absl::OkStatus();
    if (n == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, " timed out after ", absl::FormatDuration(timeout)));
    }
    if (errno != EINTR) return Unavailable(what, errno);
  }
}

// A non-blocking TCP connection to `address`, connected within `timeout`.
absl::StatusOr<int> ConnectTcp(const NodeAddress& address, absl::Duration timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const std::string port = absl::StrCat(address.port);
  if (const int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &result); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("connect: cannot resolve '", address.host, "': ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(result, freeaddrinfo);
  const int fd = socket(result->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("connect", errno);
  if (connect(fd, result->ai_addr, result->ai_addrlen) != 0 && errno != EINPROGRESS) {
    const int error = errno;
    close(fd);
    return Unavailable("connect", error);
  }
  absl::Status waited = WaitFor(fd, POLLOUT, timeout, "connect");
  int error = 0;
  socklen_t len = sizeof(error);
  if (waited.ok() && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
  if (!waited.ok() || error != 0) {
    close(fd);
    return waited.ok() ? Unavailable("connect", error) : waited;
  }
  return fd;
}

// A name (not an IP address) is sent as SNI.
bool IsHostName(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  return !host.empty() && inet_pton(AF_INET, host.c_str(), &v4) != 1 &&
         inet_pton(AF_INET6, host.c_str(), &v6) != 1;
}

// Runs `op` (SSL_connect, SSL_read or SSL_write) until it succeeds, waiting for the socket as
// OpenSSL asks. Returns op's result, or the error.
template <typename Op>
absl::StatusOr<int> RunTls(SSL* ssl, int fd, absl::Duration timeout, absl::string_view what,
                           Op op) {
  for (;;) {
    ERR_clear_error();
    const int rc = op();
    if (rc > 0) return rc;
    const int error = SSL_get_error(ssl, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      absl::Status s = WaitFor(fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, timeout, what);
      if (!s.ok()) return s;
      continue;
    }
    if (error == SSL_ERROR_ZERO_RETURN) return 0;
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      if (rc == 0 || errno == 0) return 0;  // closed without close_notify
      return Unavailable(what, errno);
    }
    return absl::UnavailableError(absl::StrCat(what, ": ", TlsErrorText()));
  }
}

}  // namespace

void NodeConnection::ReplyDeleter::operator()(redisReply* reply) const { freeReplyObject(reply); }

absl::StatusOr<std::unique_ptr<NodeConnection>> NodeConnection::Connect(
    const NodeAddress& address, absl::Duration connect_timeout, absl::Duration io_timeout,
    SSL_CTX* tls) {
  absl::StatusOr<int> fd = ConnectTcp(address, connect_timeout);
  if (!fd.ok()) return fd.status();
  SSL* ssl = nullptr;
  if (tls != nullptr) {
    ssl = SSL_new(tls);
    if (ssl == nullptr || SSL_set_fd(ssl, *fd) != 1) {
      if (ssl != nullptr) SSL_free(ssl);
      close(*fd);
      return absl::InternalError(absl::StrCat("TLS: ", TlsErrorText()));
    }
    if (IsHostName(address.host)) SSL_set_tlsext_host_name(ssl, address.host.c_str());
  }
  std::unique_ptr<NodeConnection> connection(new NodeConnection(*fd, ssl));
  if (ssl != nullptr) {
    absl::StatusOr<int> done =
        RunTls(ssl, *fd, connect_timeout, "TLS handshake", [ssl] { return SSL_connect(ssl); });
    if (!done.ok()) return done.status();
    if (*done == 0) return absl::UnavailableError("TLS handshake: closed by the node");
  }
  connection->io_timeout_ = io_timeout;
  return connection;
}

NodeConnection::NodeConnection(int fd, SSL* ssl)
    : fd_(fd), ssl_(ssl), reader_(redisReaderCreate()) {}

NodeConnection::~NodeConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  close(fd_);
  redisReaderFree(reader_);
}

absl::Status NodeConnection::WriteAll(const char* data, size_t size) {
  while (size > 0) {
    size_t n = 0;
    if (ssl_ != nullptr) {
      absl::StatusOr<int> written = RunTls(ssl_, fd_, io_timeout_, "write", [&] {
        return SSL_write(ssl_, data, static_cast<int>(size));
      });
      if (!written.ok()) return written.status();
      if (*written == 0) return absl::UnavailableError("write: closed by the node");
      n = static_cast<size_t>(*written);
    } else {
      const ssize_t rc = send(fd_, data, size, MSG_NOSIGNAL);
      if (rc < 0 && errno != EAGAIN && errno != EINTR) return Unavailable("write", errno);
      if (rc < 0) {
        if (absl::Status s = WaitFor(fd_, POLLOUT, io_timeout_, "write"); !s.ok()) return s;
        continue;
      }
      n = static_cast<size_t>(rc);
    }
    data += n;
    size -= n;
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> NodeConnection::ReadSome(char* buf, size_t size) {
  if (ssl_ != nullptr) {
    absl::StatusOr<int> n = RunTls(ssl_, fd_, io_timeout_, "read",
                                   [&] { return SSL_read(ssl_, buf, static_cast<int>(size)); });
    if (!n.ok()) return n.status();
    return static_cast<size_t>(*n);
  }
  for (;;) {
    const ssize_t rc = recv(fd_, buf, size, 0);
    if (rc >= 0) return static_cast<size_t>(rc);
    if (errno != EAGAIN && errno != EINTR) return Unavailable("read", errno);
    if (absl::Status s = WaitFor(fd_, POLLIN, io_timeout_, "read"); !s.ok()) return s;
  }
}

absl::StatusOr<NodeConnection::ReplyPtr> NodeConnection::Command(
    const std::vector<absl::string_view>& args, absl::string_view label) {
  std::vector<const char*> argv;
  std::vector<size_t> argv_len;
  for (absl::string_view arg : args) {
    argv.push_back(arg.data());
    argv_len.push_back(arg.size());
  }
  char* command = nullptr;
  const int len =
      redisFormatCommandArgv(&command, static_cast<int>(args.size()), argv.data(), argv_len.data());
  if (len < 0) return absl::ResourceExhaustedError(absl::StrCat(label, ": out of memory"));
  absl::Status written = WriteAll(command, static_cast<size_t>(len));
  redisFreeCommand(command);
  if (!written.ok()) return absl::UnavailableError(absl::StrCat(label, ": ", written.message()));
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
      return absl::UnavailableError(absl::StrCat(label, ": protocol error: ", reader_->errstr));
    }
    if (reply != nullptr) return ReplyPtr(static_cast<redisReply*>(reply));
    char buf[kReadChunk];
    absl::StatusOr<size_t> n = ReadSome(buf, sizeof(buf));
    if (!n.ok()) return absl::UnavailableError(absl::StrCat(label, ": ", n.status().message()));
    if (*n == 0) return absl::UnavailableError(absl::StrCat(label, ": closed by the node"));
    redisReaderFeed(reader_, buf, *n);
  }
}

}  // namespace slotplane
