#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/cluster_view.h"

struct redisReply;
struct redisReader;

namespace slotplane {

// A blocking connection to one Redis node, plain TCP or TLS, for topology discovery (off the
// request path). Commands are encoded and replies parsed by hiredis (its reader and formatter);
// the bytes travel over our own socket so that TLS (hiredis 0.14 has none) is OpenSSL's.
// One thread at a time.
class NodeConnection {
 public:
  struct ReplyDeleter {
    void operator()(redisReply* reply) const;
  };
  using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

  // Connects within `connect_timeout` (TCP and TLS handshake each); every later read or write
  // waits at most `io_timeout`. With `tls` (a client context) the node's certificate is verified
  // against its CA, and the host name, when it is a name, is sent as SNI.
  static absl::StatusOr<std::unique_ptr<NodeConnection>> Connect(const NodeAddress& address,
                                                                 absl::Duration connect_timeout,
                                                                 absl::Duration io_timeout,
                                                                 SSL_CTX* tls);
  ~NodeConnection();
  NodeConnection(const NodeConnection&) = delete;
  NodeConnection& operator=(const NodeConnection&) = delete;

  // Sends one command and waits for its reply. A transport failure is an error; an error reply
  // is a reply. `label` names the command in errors (never the arguments: AUTH's are secret).
  absl::StatusOr<ReplyPtr> Command(const std::vector<absl::string_view>& args,
                                   absl::string_view label);

 private:
  NodeConnection(int fd, SSL* ssl);
  absl::Status WriteAll(const char* data, size_t size);
  // Some bytes into `buf`; 0 when the node closed the connection.
  absl::StatusOr<size_t> ReadSome(char* buf, size_t size);

  int fd_;
  SSL* ssl_;  // null: plain TCP
  redisReader* reader_;
  absl::Duration io_timeout_;
};

}  // namespace slotplane
