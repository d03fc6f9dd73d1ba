#include "controlplane/auth/token_auth.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "grpcpp/server_context.h"

namespace slotplane::control {
namespace {

constexpr size_t kMaxTokenFileBytes = 4096;

absl::StatusOr<std::string> ReadTokenFile(const TokenKind& kind, const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", kind.what, " token file '", path, "'"));
  }
  std::string data(kMaxTokenFileBytes + 1, '\0');
  data.resize(std::fread(data.data(), 1, data.size(), file));
  std::fclose(file);
  if (data.size() > kMaxTokenFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        kind.what, " token file '", path, "' is larger than ", kMaxTokenFileBytes, " bytes"));
  }
  return std::string(absl::StripAsciiWhitespace(data));
}

}  // namespace

absl::StatusOr<TokenAuth> TokenAuth::Load(const TokenKind& kind, const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    absl::StatusOr<std::string> read = ReadTokenFile(kind, token_file);
    if (!read.ok()) return read.status();
    if (read->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind.what, " token file '", token_file, "' is empty"));
    }
    token = *std::move(read);
  } else if (const char* env = std::getenv(kind.env); env != nullptr) {
    token = std::string(absl::StripAsciiWhitespace(env));
    if (token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(kind.env, " is set but empty"));
    }
  }
  return token.empty() ? Open(kind) : WithToken(kind, token);
}

TokenAuth TokenAuth::WithToken(const TokenKind& kind, const std::string& token) {
  return TokenAuth(kind, Sha256Hex(token));
}

grpc::Status TokenAuth::Check(const grpc::ServerContextBase& context) const {
  if (open()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return CheckHeader("");
  return CheckHeader(std::string(it->second.data(), it->second.size()));
}

grpc::Status TokenAuth::CheckHeader(const std::string& authorization) const {
  if (open()) return grpc::Status::OK;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        absl::StrCat(kind_->service, " needs the ", kind_->what,
                                     " token (authorization: Bearer <token>)"));
  }
  if (authorization.size() < kScheme.size() ||
      !EqualsIgnoreCase(std::string_view(authorization).substr(0, kScheme.size()), kScheme)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization metadata must be 'Bearer <token>'");
  }
  const std::string token(absl::StripAsciiWhitespace(authorization.substr(kScheme.size())));
  if (!ConstantTimeEquals(Sha256Hex(token), digest_)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        absl::StrCat("wrong ", kind_->what, " token"));
  }
  return grpc::Status::OK;
}

}  // namespace slotplane::control
