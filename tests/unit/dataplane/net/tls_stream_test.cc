#include "dataplane/net/tls_stream.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/tls_config.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

// A self-signed P-256 certificate (its own CA) and its key, written as PEM files in a fresh
// directory; the key is encrypted with `pass` when it is not empty.
class TestCertificate {
 public:
  explicit TestCertificate(const std::string& pass = "") {
    char dir_template[] = "/tmp/slotplane-tls-unit-XXXXXX";
    dir_ = mkdtemp(dir_template);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("slotplane unit"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    FILE* f = std::fopen(cert_file().c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
    f = std::fopen(key_file().c_str(), "w");
    if (pass.empty()) {
      PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                           const_cast<char*>(pass.c_str()));
    }
    std::fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~TestCertificate() {
    unlink(cert_file().c_str());
    unlink(key_file().c_str());
    rmdir(dir_.c_str());
  }
  std::string cert_file() const { return dir_ + "/cert.pem"; }
  std::string key_file() const { return dir_ + "/key.pem"; }

  TlsSettings Settings() const {
    TlsSettings s;
    s.cert_file = cert_file();
    s.key_file = key_file();
    s.ca_cert_file = cert_file();  // self-signed: its own CA
    return s;
  }

 private:
  std::string dir_;
};

// Drives both handshakes over a non-blocking socket pair until both are done (or one fails).
bool Handshake(TlsStream* a, TlsStream* b) {
  for (int i = 0; i < 100; ++i) {
    const TlsStream::Step sa = a->established() ? TlsStream::Step::kDone : a->Handshake();
    const TlsStream::Step sb = b->established() ? TlsStream::Step::kDone : b->Handshake();
    if (sa == TlsStream::Step::kFailed || sb == TlsStream::Step::kFailed) return false;
    if (sa == TlsStream::Step::kDone && sb == TlsStream::Step::kDone) return true;
  }
  return false;
}

struct Pair {
  int fds[2] = {-1, -1};
  std::unique_ptr<TlsStream> server;
  std::unique_ptr<TlsStream> client;
  ~Pair() {
    server.reset();
    client.reset();
    close(fds[0]);
    close(fds[1]);
  }
};

void Connect(const TlsSettings& settings, Pair* pair) {
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair->fds), 0);
  auto server_ctx = NewTlsServerContext(settings);
  ASSERT_TRUE(server_ctx.ok()) << server_ctx.status();
  auto client_ctx = NewTlsClientContext(settings);
  ASSERT_TRUE(client_ctx.ok()) << client_ctx.status();
  auto server = TlsStream::Create(server_ctx->get(), pair->fds[0], TlsStream::Role::kServer);
  auto client =
      TlsStream::Create(client_ctx->get(), pair->fds[1], TlsStream::Role::kClient, "localhost");
  ASSERT_TRUE(server.ok() && client.ok());
  pair->server = *std::move(server);
  pair->client = *std::move(client);
}

TEST(TlsStreamTest, HandshakeThenGatheredWritesAndReads) {
  TestCertificate cert;
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(Connect(cert.Settings(), &pair));
  ASSERT_TRUE(Handshake(pair.server.get(), pair.client.get()))
      << pair.server->error() << " / " << pair.client->error();

  // Many small iovecs and one large one, written as a buffered writer does: retrying from the
  // first unwritten byte while the reader drains.
  std::string sent;
  for (int i = 0; i < 500; ++i) sent += "*1\r\n$4\r\nPING\r\n";
  sent += std::string(300 * 1024, 'x');
  std::string received;
  size_t written = 0;
  std::vector<char> buf(4096);
  while (received.size() < sent.size()) {
    if (written < sent.size()) {
      // Small pieces first (gathered into one record), then the rest in one piece.
      std::vector<iovec> iov;
      size_t offset = written;
      while (offset < 500 * 14 && iov.size() < 64) {
        iov.push_back({sent.data() + offset, 14 - (offset % 14)});
        offset += iov.back().iov_len;
      }
      if (iov.empty()) iov.push_back({sent.data() + written, sent.size() - written});
      const ssize_t n = pair.client->Write(iov.data(), static_cast<int>(iov.size()));
      if (n < 0) {
        ASSERT_EQ(errno, EAGAIN) << pair.client->error();
      }
      if (n > 0) written += static_cast<size_t>(n);
    }
    const ssize_t n = pair.server->Read(buf.data(), buf.size());
    if (n < 0) {
      ASSERT_EQ(errno, EAGAIN) << pair.server->error();
    }
    ASSERT_NE(n, 0) << "closed";
    if (n > 0) received.append(buf.data(), static_cast<size_t>(n));
  }
  EXPECT_EQ(received, sent);

  // A read smaller than a record leaves the rest decrypted inside OpenSSL: pending().
  const std::string reply(10000, 'r');
  iovec one{const_cast<char*>(reply.data()), reply.size()};
  ASSERT_EQ(pair.server->Write(&one, 1), static_cast<ssize_t>(reply.size()));
  char small[100];
  ssize_t n = -1;
  for (int i = 0; i < 100 && n < 0; ++i) n = pair.client->Read(small, sizeof(small));
  ASSERT_EQ(n, 100);
  EXPECT_TRUE(pair.client->pending());

  // close_notify reads as end of stream.
  pair.server->Shutdown();
  std::string rest;
  for (int i = 0; i < 1000; ++i) {
    n = pair.client->Read(buf.data(), buf.size());
    if (n == 0) break;
    if (n > 0) rest.append(buf.data(), static_cast<size_t>(n));
  }
  EXPECT_EQ(n, 0);
  EXPECT_EQ(rest.size(), reply.size() - 100);
}

TEST(TlsStreamTest, ClientWithoutCertificateFailsWhenRequired) {
  TestCertificate cert;
  TlsSettings server = cert.Settings();
  server.auth_clients = TlsAuthClients::kYes;
  TlsSettings client = cert.Settings();
  client.cert_file.clear();
  client.key_file.clear();
  Pair pair;
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair.fds), 0);
  auto server_ctx = NewTlsServerContext(server);
  auto client_ctx = NewTlsClientContext(client);
  ASSERT_TRUE(server_ctx.ok() && client_ctx.ok());
  pair.server = *TlsStream::Create(server_ctx->get(), pair.fds[0], TlsStream::Role::kServer);
  pair.client = *TlsStream::Create(client_ctx->get(), pair.fds[1], TlsStream::Role::kClient);
  EXPECT_FALSE(Handshake(pair.server.get(), pair.client.get()));
  EXPECT_FALSE(pair.server->error().empty());
}

TEST(TlsConfigTest, ErrorsNameTheOptionAndNeverThePassphrase) {
  TestCertificate locked("unit-pass-77");
  TlsSettings s = locked.Settings();
  s.key_file_pass = "unit-pass-77";
  EXPECT_TRUE(NewTlsServerContext(s).ok()) << "the passphrase opens the key";

  s.key_file_pass = "wrong-pass-88";
  auto wrong = NewTlsServerContext(s);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("tls-key-file"), std::string::npos) << wrong.status();
  EXPECT_EQ(wrong.status().message().find("wrong-pass-88"), std::string::npos);

  TestCertificate plain;
  s = plain.Settings();
  s.ca_cert_file = "/nonexistent/ca.pem";
  auto no_ca = NewTlsServerContext(s);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(no_ca.status().message().find("tls-ca-cert-file"), std::string::npos);

  s = plain.Settings();
  s.protocols = "TLSv1.2 SSLv3";
  auto protocols = NewTlsClientContext(s);
  ASSERT_FALSE(protocols.ok());
  EXPECT_NE(protocols.status().message().find("tls-protocols"), std::string::npos);

  s = plain.Settings();
  s.ciphers = "NO-SUCH-CIPHER";
  EXPECT_FALSE(NewTlsServerContext(s).ok());
}

}  // namespace
}  // namespace slotplane::dataplane
