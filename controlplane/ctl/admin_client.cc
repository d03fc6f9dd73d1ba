#include "controlplane/ctl/admin_client.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_limits.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace slotplane::ctl {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read '", path, "'"));
  std::stringstream data;
  data << in.rdbuf();
  return data.str();
}

absl::StatusOr<std::string> Token(const CtlArgs& args) {
  if (!args.token_file.empty()) {
    auto token = ReadFile("--token-file", args.token_file);
    if (!token.ok()) return token.status();
    return std::string(absl::StripAsciiWhitespace(*token));
  }
  const char* env = std::getenv("SLOTPLANE_ADMIN_TOKEN");
  return env == nullptr ? "" : std::string(absl::StripAsciiWhitespace(env));
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> InsecureTls(const CtlArgs& args) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  if (!args.tls_cert.empty()) {
    auto cert = ReadFile("--tls-cert", args.tls_cert);
    if (!cert.ok()) return cert.status();
    auto key = ReadFile("--tls-key", args.tls_key);
    if (!key.ok()) return key.status();
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            std::vector<grpc::experimental::IdentityKeyCertPair>{{*key, *cert}}));
    options.watch_identity_key_cert_pairs();
  }
  return grpc::experimental::TlsCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(const CtlArgs& args) {
  if (!args.tls) return grpc::InsecureChannelCredentials();
  if (args.insecure) return InsecureTls(args);
  grpc::SslCredentialsOptions ssl;
  if (!args.tls_ca.empty()) {
    auto ca = ReadFile("--tls-ca", args.tls_ca);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
  }
  if (!args.tls_cert.empty()) {
    auto cert = ReadFile("--tls-cert", args.tls_cert);
    if (!cert.ok()) return cert.status();
    auto key = ReadFile("--tls-key", args.tls_key);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AdminClient>> AdminClient::Create(const CtlArgs& args) {
  auto token = Token(args);
  if (!token.ok()) return token.status();
  auto credentials = Credentials(args);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments channel_args;
  if (!args.tls_server_name.empty()) {
    channel_args.SetSslTargetNameOverride(args.tls_server_name);
  }
  // Fail fast when the control plane is down instead of retrying until the deadline.
  channel_args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // Listings of a large fleet (users, proxies) may pass gRPC's default 4 MiB.
  channel_args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  channel_args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  auto channel = grpc::CreateCustomChannel(args.addr, *credentials, channel_args);
  return std::unique_ptr<AdminClient>(
      new AdminClient(args.addr, *std::move(token), v1::Admin::NewStub(channel)));
}

std::unique_ptr<grpc::ClientContext> AdminClient::Context(absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
  return context;
}

int ExitCodeFor(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return kExitUnreachable;
    default:
      return kExitRefused;
  }
}

int ReportError(const grpc::Status& status, const std::string& what, const std::string& address) {
  static const char* const kCodes[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int code = static_cast<int>(status.error_code());
  const char* name = code >= 0 && code <= 16 ? kCodes[code] : "UNKNOWN";
  std::fprintf(stderr, "slotplanectl: %s: %s: %s\n", what.c_str(), name,
               status.error_message().c_str());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::fprintf(stderr, "slotplanectl: is slotplane-control running at %s? (--addr)\n",
                 address.c_str());
  } else if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    std::fprintf(stderr,
                 "slotplanectl: give the admin token with --token-file or SLOTPLANE_ADMIN_TOKEN\n");
  }
  return ExitCodeFor(status);
}

}  // namespace slotplane::ctl
