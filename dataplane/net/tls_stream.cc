#include "dataplane/net/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/tls_config.h"

namespace slotplane::dataplane {
namespace {

// One TLS record's worth: iovecs smaller than this are gathered so that a batch of small
// requests leaves in one record, not one record each.
constexpr size_t kGatherSize = 16 * 1024;

bool IsIpAddress(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsStream>> TlsStream::Create(SSL_CTX* ctx, int fd, Role role,
                                                             const std::string& server_name) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return absl::InternalError(absl::StrCat("SSL_new: ", TlsErrorText()));
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl));
  if (SSL_set_fd(ssl, fd) != 1) {
    return absl::InternalError(absl::StrCat("SSL_set_fd: ", TlsErrorText()));
  }
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
    if (!server_name.empty() && !IsIpAddress(server_name)) {
      SSL_set_tlsext_host_name(ssl, server_name.c_str());
    }
  }
  return stream;
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsStream::Step TlsStream::Handshake() {
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    wants_write_ = false;
    return Step::kDone;
  }
  const int error = SSL_get_error(ssl_, rc);
  wants_write_ = error == SSL_ERROR_WANT_WRITE;
  if (error == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (error == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    error_ =
        rc == 0 || errno == 0 ? "connection closed during the handshake" : std::strerror(errno);
  } else {
    error_ = TlsErrorText();
  }
  return Step::kFailed;
}

ssize_t TlsStream::Fail(int rc) {
  const int error = SSL_get_error(ssl_, rc);
  wants_write_ = error == SSL_ERROR_WANT_WRITE;
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    errno = EAGAIN;
    return -1;
  }
  if (error == SSL_ERROR_ZERO_RETURN) return 0;
  if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    if (rc == 0 || errno == 0) return 0;  // EOF without close_notify
    error_ = std::strerror(errno);
    return -1;  // errno from the socket
  }
  error_ = TlsErrorText();
  shut_down_ = true;  // after a fatal TLS error no close_notify may be sent
  errno = ECONNRESET;
  return -1;
}

ssize_t TlsStream::Read(char* data, size_t size) {
  ERR_clear_error();
  const int rc = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (rc > 0) {
    wants_write_ = false;
    return rc;
  }
  return Fail(rc);
}

ssize_t TlsStream::WriteBytes(const char* data, size_t size) {
  ERR_clear_error();
  const int rc = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (rc > 0) {
    wants_write_ = false;
    return rc;
  }
  return Fail(rc);
}

ssize_t TlsStream::Write(const iovec* iov, int count) {
  while (count > 0 && iov[0].iov_len == 0) {
    ++iov;
    --count;
  }
  if (count == 0) return 0;
  if (count == 1 || iov[0].iov_len >= kGatherSize) {
    return WriteBytes(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len);
  }
  if (gather_ == nullptr) gather_ = std::make_unique<char[]>(kGatherSize);
  size_t size = 0;
  for (int i = 0; i < count && size < kGatherSize; ++i) {
    const size_t n = std::min(iov[i].iov_len, kGatherSize - size);
    std::memcpy(gather_.get() + size, iov[i].iov_base, n);
    size += n;
  }
  return WriteBytes(gather_.get(), size);
}

void TlsStream::Shutdown() {
  if (shut_down_ || !established_) return;
  shut_down_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace slotplane::dataplane
