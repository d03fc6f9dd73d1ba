#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// TLS settings with Redis's option names and meanings, and the OpenSSL contexts made from them.
// Shared by slotplane-proxy (its client listener, its connections to cluster nodes, its own
// topology discovery) and slotplane-control (topology polling).
namespace slotplane {

// Redis's `tls-auth-clients`: whether clients of a TLS listener must present a certificate.
enum class TlsAuthClients { kNo, kYes, kOptional };

// The TLS part of a daemon's options, named as in redis.conf. Paths are PEM files.
struct TlsSettings {
  std::string cert_file;      // tls-cert-file: the listener's certificate (chain)
  std::string key_file;       // tls-key-file
  std::string key_file_pass;  // tls-key-file-pass: secret, never shown
  // tls-client-cert-file / tls-client-key-file(-pass): the certificate presented to cluster
  // nodes. Unset: cert_file and key_file are presented, as Redis does.
  std::string client_cert_file;
  std::string client_key_file;
  std::string client_key_file_pass;  // secret
  std::string ca_cert_file;          // tls-ca-cert-file: verifies clients and cluster nodes
  std::string ca_cert_dir;           // tls-ca-cert-dir
  TlsAuthClients auth_clients = TlsAuthClients::kYes;  // tls-auth-clients (Redis: yes)
  std::string protocols;     // tls-protocols: "TLSv1.2 TLSv1.3"; empty: TLSv1.2 and TLSv1.3
  std::string ciphers;       // tls-ciphers: TLSv1.2 cipher list (OpenSSL syntax)
  std::string ciphersuites;  // tls-ciphersuites: TLSv1.3 suites
  bool prefer_server_ciphers = false;  // tls-prefer-server-ciphers

  bool HasCa() const { return !ca_cert_file.empty() || !ca_cert_dir.empty(); }
};

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
// Shared so that a reload swaps the pointer while connections made from the old context keep it
// (SSL_new takes its own reference).
using SslContextPtr = std::shared_ptr<SSL_CTX>;

// The context of a TLS listener: cert_file/key_file, client verification per auth_clients
// against the CA, protocols and ciphers. Errors name the option and OpenSSL's reason (never the
// passphrase). Reads the files now: call it again to reload them.
absl::StatusOr<SslContextPtr> NewTlsServerContext(const TlsSettings& settings);

// The context of outgoing connections (to cluster nodes): the server's certificate is verified
// against the CA (required), the client certificate (client_cert_file, else cert_file) is
// presented when one is set.
absl::StatusOr<SslContextPtr> NewTlsClientContext(const TlsSettings& settings);

// Checks the combinations Redis refuses: a certificate without its key and the reverse, and a
// listener whose clients must be verified (auth_clients yes/optional) without a CA.
// `listener`/`outgoing`: which sides are in use.
absl::Status CheckTlsSettings(const TlsSettings& settings, bool listener, bool outgoing);

// OpenSSL's error queue as one line (and cleared), for messages.
std::string TlsErrorText();

}  // namespace slotplane
