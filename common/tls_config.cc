#include "common/tls_config.h"

#include <openssl/err.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace slotplane {
namespace {

// OpenSSL's passphrase callback: `userdata` is the std::string of the key being loaded.
int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const std::string* pass = static_cast<const std::string*>(userdata);
  if (pass == nullptr || size <= 0) return 0;
  const int n = static_cast<int>(std::min<size_t>(pass->size(), static_cast<size_t>(size)));
  std::memcpy(buf, pass->data(), static_cast<size_t>(n));
  return n;
}

absl::Status OptionError(const char* option, const std::string& value) {
  return absl::InvalidArgumentError(
      absl::StrCat(option, " '", value, "' cannot be used: ", TlsErrorText()));
}

// Redis's tls-protocols: a space-separated subset of TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 (any case);
// every protocol not listed is disabled. Empty: TLSv1.2 and TLSv1.3.
absl::Status ApplyProtocols(SSL_CTX* ctx, const std::string& protocols) {
  struct Protocol {
    const char* name;
    uint64_t off_flag;
    bool enabled;
  };
  std::vector<Protocol> all = {{"tlsv1", SSL_OP_NO_TLSv1, false},
                               {"tlsv1.1", SSL_OP_NO_TLSv1_1, false},
                               {"tlsv1.2", SSL_OP_NO_TLSv1_2, false},
                               {"tlsv1.3", SSL_OP_NO_TLSv1_3, false}};
  const std::string list = protocols.empty() ? "TLSv1.2 TLSv1.3" : protocols;
  for (absl::string_view word : absl::StrSplit(list, ' ', absl::SkipEmpty())) {
    const std::string lower = absl::AsciiStrToLower(word);
    bool known = false;
    for (Protocol& p : all) {
      if (lower == p.name) known = p.enabled = true;
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls-protocols: unknown protocol '", word,
                       "' (TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3, separated by spaces)"));
    }
  }
  uint64_t off = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3;
  for (const Protocol& p : all) {
    if (!p.enabled) off |= p.off_flag;
  }
  SSL_CTX_set_options(ctx, off);
  return absl::OkStatus();
}

// What both sides share: protocols, ciphers, modes, the CA.
absl::StatusOr<SslContextPtr> NewContext(const SSL_METHOD* method, const TlsSettings& settings) {
  SslContextPtr ctx(SSL_CTX_new(method), SslCtxDeleter());
  if (ctx == nullptr) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", TlsErrorText()));
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (settings.prefer_server_ciphers) {
    SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  // Non-blocking writes: a write may return part of the bytes, and a retry may pass them from
  // another address (the owner's buffer moves as it grows). Idle connections free their
  // buffers (thousands of idle clients).
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  if (absl::Status s = ApplyProtocols(ctx.get(), settings.protocols); !s.ok()) return s;
  if (!settings.ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx.get(), settings.ciphers.c_str()) != 1) {
    return OptionError("tls-ciphers", settings.ciphers);
  }
  if (!settings.ciphersuites.empty() &&
      SSL_CTX_set_ciphersuites(ctx.get(), settings.ciphersuites.c_str()) != 1) {
    return OptionError("tls-ciphersuites", settings.ciphersuites);
  }
  if (settings.HasCa() &&
      SSL_CTX_load_verify_locations(
          ctx.get(), settings.ca_cert_file.empty() ? nullptr : settings.ca_cert_file.c_str(),
          settings.ca_cert_dir.empty() ? nullptr : settings.ca_cert_dir.c_str()) != 1) {
    return OptionError(
        settings.ca_cert_file.empty() ? "tls-ca-cert-dir" : "tls-ca-cert-file",
        settings.ca_cert_file.empty() ? settings.ca_cert_dir : settings.ca_cert_file);
  }
  return ctx;
}

// Loads a certificate chain and its key (decrypted with `pass` when set) and checks they match.
absl::Status LoadCertificate(SSL_CTX* ctx, const char* cert_option, const std::string& cert,
                             const char* key_option, const std::string& key,
                             const std::string& pass) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return OptionError(cert_option, cert);
  }
  SSL_CTX_set_default_passwd_cb(ctx, PassphraseCallback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<std::string*>(&pass));
  const int loaded = SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  // The callback's pointer is only valid during this call.
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  if (loaded != 1) return OptionError(key_option, key);
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_option, " '", key, "' does not match ", cert_option, " '", cert, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string TlsErrorText() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    absl::StrAppend(&text, text.empty() ? "" : "; ", buf);
  }
  return text.empty() ? "unknown TLS error" : text;
}

absl::Status CheckTlsSettings(const TlsSettings& s, bool listener, bool outgoing) {
  if (s.cert_file.empty() != s.key_file.empty()) {
    return absl::InvalidArgumentError("tls-cert-file and tls-key-file go together");
  }
  if (s.client_cert_file.empty() != s.client_key_file.empty()) {
    return absl::InvalidArgumentError("tls-client-cert-file and tls-client-key-file go together");
  }
  if (listener && s.cert_file.empty()) {
    return absl::InvalidArgumentError("tls-port needs tls-cert-file and tls-key-file");
  }
  if (listener && s.auth_clients != TlsAuthClients::kNo && !s.HasCa()) {
    return absl::InvalidArgumentError(
        "tls-auth-clients yes/optional needs tls-ca-cert-file (or tls-ca-cert-dir) to verify "
        "client certificates; set tls-auth-clients no to accept clients without one");
  }
  if (outgoing && !s.HasCa()) {
    return absl::InvalidArgumentError(
        "tls-cluster yes needs tls-ca-cert-file (or tls-ca-cert-dir) to verify the cluster "
        "nodes");
  }
  return absl::OkStatus();
}

absl::StatusOr<SslContextPtr> NewTlsServerContext(const TlsSettings& settings) {
  ERR_clear_error();
  absl::StatusOr<SslContextPtr> ctx = NewContext(TLS_server_method(), settings);
  if (!ctx.ok()) return ctx;
  if (absl::Status s = LoadCertificate(ctx->get(), "tls-cert-file", settings.cert_file,
                                       "tls-key-file", settings.key_file, settings.key_file_pass);
      !s.ok()) {
    return s;
  }
  int verify = SSL_VERIFY_NONE;
  if (settings.auth_clients == TlsAuthClients::kYes) {
    verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  } else if (settings.auth_clients == TlsAuthClients::kOptional) {
    verify = SSL_VERIFY_PEER;
  }
  SSL_CTX_set_verify(ctx->get(), verify, nullptr);
  // Session resumption across reloads and workers: one cache per context, keyed by this id.
  static constexpr unsigned char kSessionId[] = "slotplane";
  SSL_CTX_set_session_id_context(ctx->get(), kSessionId, sizeof(kSessionId) - 1);
  return ctx;
}

absl::StatusOr<SslContextPtr> NewTlsClientContext(const TlsSettings& settings) {
  ERR_clear_error();
  absl::StatusOr<SslContextPtr> ctx = NewContext(TLS_client_method(), settings);
  if (!ctx.ok()) return ctx;
  if (!settings.client_cert_file.empty()) {
    absl::Status s = LoadCertificate(ctx->get(), "tls-client-cert-file", settings.client_cert_file,
                                     "tls-client-key-file", settings.client_key_file,
                                     settings.client_key_file_pass);
    if (!s.ok()) return s;
  } else if (!settings.cert_file.empty()) {
    absl::Status s = LoadCertificate(ctx->get(), "tls-cert-file", settings.cert_file,
                                     "tls-key-file", settings.key_file, settings.key_file_pass);
    if (!s.ok()) return s;
  }
  SSL_CTX_set_verify(ctx->get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

}  // namespace slotplane
