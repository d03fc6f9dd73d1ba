#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"

namespace grpc {
class ServerContextBase;
}

namespace slotplane::control {

// Which token a TokenAuth checks: named in messages, read from a file option or an environment
// variable.
struct TokenKind {
  const char* what;         // "admin", "proxy": in messages ("the admin API needs a token")
  const char* file_option;  // "admin-token-file"
  const char* env;          // "SLOTPLANE_ADMIN_TOKEN"
  const char* service;      // "the admin API", "the watch stream"
};

// The admin API's token (slotplanectl, the proxies' PROXY CONFIG SET).
inline constexpr TokenKind kAdminToken = {"admin", "admin-token-file", "SLOTPLANE_ADMIN_TOKEN",
                                          "the admin API"};
// The proxies' credential for the ProxyDiscovery.Watch stream, which carries the fleet's secrets;
// distinct from the admin token.
inline constexpr TokenKind kProxyToken = {"proxy", "proxy-token-file", "SLOTPLANE_PROXY_TOKEN",
                                          "the watch stream"};

// A bearer token. Requests carry `authorization: Bearer <token>` metadata; the comparison runs in
// constant time over SHA-256 digests, so neither the content nor the length of the token leaks
// through timing. Without a token (`open()`) every request passes the check; what an open token
// means is the caller's choice (the admin API is open, the watch stream refused). Holds only the
// token's digest; the token itself is never logged or echoed.
class TokenAuth {
 public:
  // No token.
  static TokenAuth Open(const TokenKind& kind) { return TokenAuth(kind, ""); }
  // The token from `token_file` (surrounding whitespace trimmed) or, without a file, from the
  // kind's environment variable (unset: open). An unreadable or empty file is an error.
  static absl::StatusOr<TokenAuth> Load(const TokenKind& kind, const std::string& token_file);
  static TokenAuth WithToken(const TokenKind& kind, const std::string& token);

  bool open() const { return digest_.empty(); }
  const TokenKind& kind() const { return *kind_; }
  // True when both hold the same token (both open counts as the same).
  bool SameToken(const TokenAuth& other) const { return digest_ == other.digest_; }

  // OK, or UNAUTHENTICATED saying what is missing or wrong.
  grpc::Status Check(const grpc::ServerContextBase& context) const;
  // The same check on the metadata value itself (for tests).
  grpc::Status CheckHeader(const std::string& authorization) const;

 private:
  TokenAuth(const TokenKind& kind, std::string digest) : kind_(&kind), digest_(std::move(digest)) {}

  const TokenKind* kind_;
  std::string digest_;  // SHA-256 hex of the token; empty: open
};

}  // namespace slotplane::control
