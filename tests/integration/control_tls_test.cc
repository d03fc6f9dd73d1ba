// slotplane-control with TLS: slotplanectl and watch streams over TLS, plaintext refused; with a
// client CA (mTLS) a watch stream needs a client certificate while the admin API keeps relying on
// its token. Certificates are made for the test with the openssl command-line tool.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/credentials.h"
#include "tests/integration/child_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/watch_client.h"

namespace slotplane::integration {
namespace {

SharedClusterEnvironment::Options EnvironmentOptions() {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  options.cluster.replicas_per_master = 0;
  return options;
}

const auto* const kEnv = SharedClusterEnvironment::Register(EnvironmentOptions());
const auto* const kGrpc = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);
constexpr char kProxyToken[] = "tls-proxy-token";

std::string Bin(const char* name) { return absl::StrCat(SLOTPLANE_BIN_DIR, "/", name); }

// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, in `dir`.
absl::Status MakeCertificates(const std::string& dir) {
  {
    std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                          "extendedKeyUsage=serverAuth\n";
    std::ofstream(dir + "/client.ext") << "extendedKeyUsage=clientAuth\n";
  }
  const std::vector<std::string> key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                        "-nodes"};
  std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-days", "2", "-subj", "/CN=slotplane test CA", "-keyout",
       dir + "/ca.key", "-out", dir + "/ca.pem"},
      {"openssl", "req", "-subj", "/CN=localhost", "-keyout", dir + "/server.key", "-out",
       dir + "/server.csr"},
      {"openssl", "x509", "-req", "-days", "2", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem",
       "-CAkey", dir + "/ca.key", "-CAcreateserial", "-extfile", dir + "/server.ext", "-out",
       dir + "/server.pem"},
      {"openssl", "req", "-subj", "/CN=proxy", "-keyout", dir + "/client.key", "-out",
       dir + "/client.csr"},
      {"openssl", "x509", "-req", "-days", "2", "-in", dir + "/client.csr", "-CA", dir + "/ca.pem",
       "-CAkey", dir + "/ca.key", "-CAcreateserial", "-extfile", dir + "/client.ext", "-out",
       dir + "/client.pem"},
  };
  for (auto& step : steps) {
    if (step[1] == "req") step.insert(step.begin() + 2, key.begin(), key.end());
    if (step[1] == "req" && step[2 + key.size()] != "-x509") step.insert(step.begin() + 2, "-new");
    absl::StatusOr<CommandResult> result = RunCommand(step, dir, absl::Seconds(30));
    if (!result.ok()) return result.status();
    if (!result->Succeeded()) {
      return absl::InternalError(absl::StrCat("openssl failed: ", result->output));
    }
  }
  return absl::OkStatus();
}

class ControlTlsTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-control-tls"));
    dir_ = std::make_unique<TempDir>(std::move(dir));
    ASSERT_OK(MakeCertificates(dir_->path()));
  }

  void TearDown() override {
    if (control_ != nullptr) {
      const int status = control_->Terminate(absl::Seconds(10));
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWaitStatus(status);
      if (HasFailure()) std::cerr << LastLines(ReadFileOrEmpty(File("control.log")), 60) << "\n";
    }
    SharedClusterTest::TearDown();
  }

  std::string File(const std::string& name) const { return dir_->File(name); }
  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Starts slotplane-control with TLS (and a client CA with `mtls`), waits until slotplanectl
  // gets an answer over TLS.
  void StartControl(bool mtls) {
    ASSERT_OK_AND_ASSIGN(port_, PickFreePort(false));
    SpawnOptions spawn;
    spawn.argv = {Bin("slotplane-control"),
                  "--listen",
                  Address(),
                  "--data-dir",
                  File("data"),
                  "--tls-cert",
                  File("server.pem"),
                  "--tls-key",
                  File("server.key")};
    for (const NodeAddress& node : cluster().addresses()) {
      spawn.argv.insert(spawn.argv.end(), {"--cluster", node.ToString()});
    }
    // Without a client CA, proxies identify themselves by the proxy token.
    if (mtls) {
      spawn.argv.insert(spawn.argv.end(), {"--tls-client-ca", File("ca.pem")});
    } else {
      std::ofstream(File("proxy.token")) << kProxyToken << "\n";
      spawn.argv.insert(spawn.argv.end(), {"--proxy-token-file", File("proxy.token")});
    }
    spawn.output_path = File("control.log");
    ASSERT_OK_AND_ASSIGN(control_, ChildProcess::Spawn(spawn));
    ASSERT_OK(WaitForOk(
        [&]() -> absl::Status {
          if (!control_->IsRunning()) return absl::OkStatus();  // reported below
          auto status = Ctl({"--tls-ca", File("ca.pem"), "status"});
          if (!status.ok()) return status.status();
          return status->Succeeded() ? absl::OkStatus() : absl::UnavailableError(status->output);
        },
        absl::Seconds(30), absl::Milliseconds(100)));
    ASSERT_TRUE(control_->IsRunning()) << ReadFileOrEmpty(File("control.log"));
  }

  absl::StatusOr<CommandResult> Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {Bin("slotplanectl"), "--addr", Address()});
    return RunCommand(args, dir_->path(), absl::Seconds(30));
  }

  std::string ReadPem(const std::string& name) { return ReadFileOrEmpty(File(name)); }

  absl::StatusOr<std::unique_ptr<WatchClient>> Watch(bool client_cert, bool hello = true) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadPem("ca.pem");
    if (client_cert) {
      ssl.pem_cert_chain = ReadPem("client.pem");
      ssl.pem_private_key = ReadPem("client.key");
    }
    WatchClientOptions options;
    options.address = Address();
    options.credentials = grpc::SslCredentials(ssl);
    options.send_hello = hello;
    options.token = client_cert ? "" : kProxyToken;
    return WatchClient::Open(options);
  }

  std::unique_ptr<TempDir> dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> control_;
};

TEST_F(ControlTlsTest, AdminAndWatchOverTlsPlaintextRefused) {
  StartControl(/*mtls=*/false);
  ASSERT_OK_AND_ASSIGN(CommandResult verified, Ctl({"--tls-ca", File("ca.pem"), "topology"}));
  EXPECT_EQ(verified.ExitCode(), 0) << verified.output;
  EXPECT_TRUE(absl::StrContains(verified.output, "16384/16384 slots covered")) << verified.output;
  ASSERT_OK_AND_ASSIGN(CommandResult by_name, Ctl({"--tls-ca", File("ca.pem"), "--tls-server-name",
                                                   "localhost", "status"}));
  EXPECT_EQ(by_name.ExitCode(), 0) << by_name.output;
  ASSERT_OK_AND_ASSIGN(CommandResult unverified, Ctl({"--insecure", "status"}));
  EXPECT_EQ(unverified.ExitCode(), 0) << unverified.output;
  ASSERT_OK_AND_ASSIGN(CommandResult plaintext, Ctl({"status"}));
  EXPECT_EQ(plaintext.ExitCode(), 3) << plaintext.output;
  ASSERT_OK_AND_ASSIGN(CommandResult untrusted, Ctl({"--tls", "status"}));
  EXPECT_EQ(untrusted.ExitCode(), 3) << "the test CA is not a system CA: " << untrusted.output;

  ASSERT_OK_AND_ASSIGN(auto watch, Watch(/*client_cert=*/false));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, watch->Next(absl::Seconds(10)));
  EXPECT_EQ(snapshot.config().topology().shards_size(), 3);
}

TEST_F(ControlTlsTest, MutualTlsForWatchStreams) {
  StartControl(/*mtls=*/true);
  // Refused at once: the stream may be over before a Hello could be written.
  ASSERT_OK_AND_ASSIGN(auto anonymous, Watch(/*client_cert=*/false, /*hello=*/false));
  ASSERT_OK_AND_ASSIGN(grpc::Status refused, anonymous->WaitForEnd(absl::Seconds(10)));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED) << refused.error_message();

  ASSERT_OK_AND_ASSIGN(auto proxy, Watch(/*client_cert=*/true));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, proxy->Next(absl::Seconds(10)));
  ASSERT_OK(proxy->Ack(snapshot));
  // The admin API does not need a client certificate (it has its token).
  ASSERT_OK_AND_ASSIGN(CommandResult proxies, Ctl({"--tls-ca", File("ca.pem"), "proxies"}));
  EXPECT_EQ(proxies.ExitCode(), 0) << proxies.output;
  ASSERT_OK_AND_ASSIGN(CommandResult with_cert,
                       Ctl({"--tls-ca", File("ca.pem"), "--tls-cert", File("client.pem"),
                            "--tls-key", File("client.key"), "status"}));
  EXPECT_EQ(with_cert.ExitCode(), 0) << with_cert.output;
}

}  // namespace
}  // namespace slotplane::integration
