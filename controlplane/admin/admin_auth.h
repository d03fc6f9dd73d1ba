#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"

namespace grpc {
class ServerContextBase;
}

namespace slotplane::control {

// The admin API's bearer token. Requests carry `authorization: Bearer <token>` metadata; the
// comparison runs in constant time over SHA-256 digests, so neither the content nor the length
// of the token leaks through timing. Without a token the admin API is open. Holds only the
// token's digest; the token itself is never logged.
class AdminAuth {
 public:
  // No token: every request is allowed.
  static AdminAuth Open() { return AdminAuth(""); }
  // The token from `token_file` (surrounding whitespace trimmed) or, without a file, from the
  // environment variable SLOTPLANE_ADMIN_TOKEN (unset: open). An unreadable or empty file is an
  // error.
  static absl::StatusOr<AdminAuth> Load(const std::string& token_file);
  static AdminAuth WithToken(const std::string& token);

  bool open() const { return digest_.empty(); }

  // OK, or UNAUTHENTICATED saying what is missing or wrong.
  grpc::Status Check(const grpc::ServerContextBase& context) const;
  // The same check on the metadata value itself (for tests).
  grpc::Status CheckHeader(const std::string& authorization) const;

 private:
  explicit AdminAuth(std::string digest) : digest_(std::move(digest)) {}

  std::string digest_;  // SHA-256 hex of the token; empty: open
};

}  // namespace slotplane::control
