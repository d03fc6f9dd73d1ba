#include "controlplane/admin/admin_auth.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "grpcpp/server_context.h"

namespace slotplane::control {
namespace {

constexpr char kEnvToken[] = "SLOTPLANE_ADMIN_TOKEN";
constexpr size_t kMaxTokenFileBytes = 4096;

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read admin token file '", path, "'"));
  }
  std::string data(kMaxTokenFileBytes + 1, '\0');
  data.resize(std::fread(data.data(), 1, data.size(), file));
  std::fclose(file);
  if (data.size() > kMaxTokenFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat("admin token file '", path, "' is larger than ",
                                                   kMaxTokenFileBytes, " bytes"));
  }
  return std::string(absl::StripAsciiWhitespace(data));
}

}  // namespace

absl::StatusOr<AdminAuth> AdminAuth::Load(const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    absl::StatusOr<std::string> read = ReadTokenFile(token_file);
    if (!read.ok()) return read.status();
    if (read->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("admin token file '", token_file, "' is empty"));
    }
    token = *std::move(read);
  } else if (const char* env = std::getenv(kEnvToken); env != nullptr) {
    token = std::string(absl::StripAsciiWhitespace(env));
    if (token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(kEnvToken, " is set but empty"));
    }
  }
  return token.empty() ? Open() : WithToken(token);
}

AdminAuth AdminAuth::WithToken(const std::string& token) { return AdminAuth(Sha256Hex(token)); }

grpc::Status AdminAuth::Check(const grpc::ServerContextBase& context) const {
  if (open()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return CheckHeader("");
  return CheckHeader(std::string(it->second.data(), it->second.size()));
}

grpc::Status AdminAuth::CheckHeader(const std::string& authorization) const {
  if (open()) return grpc::Status::OK;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the admin API needs a token (authorization: Bearer <token>)");
  }
  if (authorization.size() < kScheme.size() ||
      !EqualsIgnoreCase(std::string_view(authorization).substr(0, kScheme.size()), kScheme)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization metadata must be 'Bearer <token>'");
  }
  const std::string token(absl::StripAsciiWhitespace(authorization.substr(kScheme.size())));
  if (!ConstantTimeEquals(Sha256Hex(token), digest_)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong admin token");
  }
  return grpc::Status::OK;
}

}  // namespace slotplane::control
