#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace slotplane::dataplane {

// TLS over one non-blocking socket that its owner registered with an EventLoop: OpenSSL's SSL
// object, the handshake as a state machine driven by readiness events, and reads and writes with
// read(2)/writev(2) semantics so that an owner's plain-TCP code path stays as it is (one branch
// per transfer, no virtual call). The owner keeps the fd (and closes it after destroying this).
//
// WANT_READ / WANT_WRITE: a call that cannot go on returns -1 with errno EAGAIN, like a socket,
// and records which readiness it waits for. An owner registers EPOLLOUT while wants_write()
// (TLS may need to write to read) and keeps EPOLLIN registered (it may need to read to write).
// Because OpenSSL may hold decrypted bytes the socket no longer signals, an owner that stops
// reading while pending() must come back by itself.
//
// Owned and used by one thread (a worker's).
class TlsStream {
 public:
  enum class Role { kServer, kClient };
  enum class Step { kDone, kWantRead, kWantWrite, kFailed };

  // A stream on `fd` with a context made by common/tls_config.h. `server_name`: for a client,
  // the name sent as SNI when it is a host name (not an IP address); may be empty.
  static absl::StatusOr<std::unique_ptr<TlsStream>> Create(SSL_CTX* ctx, int fd, Role role,
                                                           const std::string& server_name = "");
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Advances the handshake; kFailed leaves the reason in error(). Once kDone, established().
  Step Handshake();
  bool established() const { return established_; }

  // read(2): bytes read, 0 when the peer closed (close_notify or EOF), -1 with errno (EAGAIN:
  // call again when wants_write() / the socket is readable; ECONNRESET: a TLS error, see
  // error()).
  ssize_t Read(char* data, size_t size);
  // writev(2): bytes of the iovecs written in order, -1 with errno as Read. Small iovecs are
  // gathered into one record. A retry after EAGAIN must start with the same bytes (the unwritten
  // ones), possibly more of them, as a buffered writer's does.
  ssize_t Write(const iovec* iov, int count);

  // Decrypted bytes held by OpenSSL that the next Read returns without the socket signalling.
  bool pending() const { return SSL_pending(ssl_) > 0; }
  // The last Read or Write (or Handshake) waits for the socket to become writable.
  bool wants_write() const { return wants_write_; }
  // Why the handshake or the last transfer failed (OpenSSL's reason, or the peer's alert).
  const std::string& error() const { return error_; }
  // Sends close_notify once, best effort (never waits).
  void Shutdown();

 private:
  explicit TlsStream(SSL* ssl) : ssl_(ssl) {}
  // Maps the result `rc` of an SSL call to the socket convention (-1/errno or 0).
  ssize_t Fail(int rc);
  ssize_t WriteBytes(const char* data, size_t size);

  SSL* ssl_;
  bool established_ = false;
  bool wants_write_ = false;
  bool shut_down_ = false;
  std::string error_;
  // Small iovecs gathered into one TLS record; allocated on the first gathered write.
  std::unique_ptr<char[]> gather_;
};

}  // namespace slotplane::dataplane
