// TLS on both sides of slotplane-proxy, against a real Redis Cluster whose nodes speak TLS
// (tls-port, tls-cluster yes, tls-replication yes, client certificates required) and with real
// TLS clients: redis-cli --tls, python3-redis with ssl=True, openssl s_client. The proxy only
// knows the nodes' TLS ports (its entry points are TLS ports and discovery over TLS reports
// "tls-port"), so a plaintext connection to a node could not work.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/control_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/tls_certs.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = [] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  options.cluster.tls = true;  // replicas too: WaitUntilStable proves TLS replication
  return SharedClusterEnvironment::Register(options);
}();

constexpr char kPython[] = "/usr/bin/python3";  // Debian's, which has python3-redis
constexpr absl::Duration kClientTimeout = absl::Seconds(60);
constexpr absl::Duration kReloadTimeout = absl::Seconds(30);

class ProxyTlsTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-tls"));
    dir_.emplace(std::move(dir));
    ASSERT_OK(MakeTestCertificate(cluster().tls_dir(), "proxy", "slotplane proxy"));
  }

  std::string Ca() { return cluster().tls_file("ca.pem"); }

  // A proxy with a TLS listener (tls-port) whose certificate is `cert`/`key`, connecting to the
  // cluster's TLS ports with the cluster's client certificate. `extra` is appended.
  std::unique_ptr<ProxyProcess> StartProxy(const std::vector<std::string>& extra,
                                           const std::string& cert = "",
                                           const std::string& key = "") {
    auto port = PickFreePort(/*with_cluster_bus=*/false);
    EXPECT_OK(port);
    if (!port.ok()) return nullptr;
    tls_port_ = *port;
    ProxyOptions options;
    options.seeds = cluster().tls_addresses();
    options.extra_args = {"--tls-port",
                          absl::StrCat(tls_port_),
                          "--tls-cert-file",
                          cert.empty() ? cluster().tls_file("proxy.pem") : cert,
                          "--tls-key-file",
                          key.empty() ? cluster().tls_file("proxy.key") : key,
                          "--tls-ca-cert-file",
                          Ca(),
                          "--tls-cluster",
                          "yes",
                          "--tls-client-cert-file",
                          cluster().tls_file("client.pem"),
                          "--tls-client-key-file",
                          cluster().tls_file("client.key")};
    options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
    auto proxy = ProxyProcess::Start(options);
    EXPECT_OK(proxy);
    return proxy.ok() ? *std::move(proxy) : nullptr;
  }

  // redis-cli over TLS to the proxy's TLS port, with the client certificate when `with_cert`;
  // the commands come from `input` (one per line) when `args` is empty.
  CommandResult RedisCli(std::vector<std::string> args, bool with_cert = true,
                         const std::string& input = "") {
    std::vector<std::string> argv = {"redis-cli", "--tls",     "--cacert", Ca(),
                                     "-h",        "127.0.0.1", "-p",       absl::StrCat(tls_port_)};
    if (with_cert) {
      argv.insert(argv.end(), {"--cert", cluster().tls_file("client.pem"), "--key",
                               cluster().tls_file("client.key")});
    }
    argv.insert(argv.end(), args.begin(), args.end());
    std::string input_path;
    if (!input.empty()) {
      input_path = dir_->File("redis-cli.in");
      std::ofstream(input_path) << input;
    }
    auto result = RunCommand(argv, dir_->path(), kClientTimeout, input_path);
    EXPECT_OK(result);
    return result.ok() ? *result : CommandResult{};
  }

  // The subject line of the certificate the TLS port presents to a new connection.
  std::string PresentedSubject() {
    auto result = RunCommand(
        {"openssl", "s_client", "-connect", absl::StrCat("127.0.0.1:", tls_port_), "-CAfile", Ca(),
         "-cert", cluster().tls_file("client.pem"), "-key", cluster().tls_file("client.key")},
        dir_->path(), kClientTimeout, "/dev/null");
    if (!result.ok()) return std::string(result.status().message());
    for (absl::string_view line : absl::StrSplit(result->output, '\n')) {
      if (absl::StartsWith(line, "subject=")) return std::string(line);
    }
    return result->output;
  }

  std::optional<TempDir> dir_;
  uint16_t tls_port_ = 0;
};

TEST_F(ProxyTlsTest, RoundTripsOverTlsOnBothSides) {
  std::unique_ptr<ProxyProcess> proxy = StartProxy({});
  ASSERT_NE(proxy, nullptr);
  std::string input;
  std::vector<std::vector<std::string>> gets;
  constexpr int kKeys = 30;  // spread over every master
  for (int i = 0; i < kKeys; ++i) absl::StrAppend(&input, "SET tls:key", i, " value", i, "\n");
  for (int i = 0; i < kKeys; ++i) {
    absl::StrAppend(&input, "GET tls:key", i, "\n");
    gets.push_back({"GET", absl::StrCat("tls:key", i)});
  }
  CommandResult cli = RedisCli({}, true, input);
  ASSERT_TRUE(cli.Succeeded()) << cli.output;
  std::string expected;
  for (int i = 0; i < kKeys; ++i) absl::StrAppend(&expected, "OK\n");
  for (int i = 0; i < kKeys; ++i) absl::StrAppend(&expected, "value", i, "\n");
  EXPECT_EQ(cli.output, expected);

  // The values are on the nodes that own them (read back over the fixture's plaintext ports).
  ASSERT_OK_AND_ASSIGN(std::vector<Reply> on_nodes, cluster().PipelineOnOwners(gets));
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_EQ(on_nodes[i], Reply::String(absl::StrCat("value", i))) << "key " << i;
  }

  // The proxy's topology is made of the nodes' TLS ports.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> plain, proxy->Connect());
  const Reply nodes = plain->Command({"PROXY", "CLUSTER", "NODES"});
  ASSERT_EQ(nodes.type, Reply::Type::kArray) << nodes;
  ASSERT_EQ(nodes.elements.size(), static_cast<size_t>(cluster().node_count()));
  for (const Reply& node : nodes.elements) {
    std::string address;
    for (size_t i = 0; i + 1 < node.elements.size(); i += 2) {
      if (node.elements[i].str == "address") address = node.elements[i + 1].str;
    }
    bool is_tls_port = false;
    for (const NodeAddress& tls : cluster().tls_addresses()) {
      is_tls_port = is_tls_port || tls.ToString() == address;
    }
    EXPECT_TRUE(is_tls_port) << address << " is not a TLS port of the cluster";
  }
}

TEST_F(ProxyTlsTest, RedisPyWithSsl) {
  ASSERT_OK_AND_ASSIGN(CommandResult probe,
                       RunCommand({kPython, "-c", "import redis"}, dir_->path(), kClientTimeout));
  if (!probe.Succeeded()) GTEST_SKIP() << "python3-redis is not installed: " << probe.output;
  std::unique_ptr<ProxyProcess> proxy = StartProxy({"--enable-cross-slot", "yes"});
  ASSERT_NE(proxy, nullptr);
  const std::string script = absl::StrCat(
      "import redis\n"
      "r = redis.Redis(host='127.0.0.1', port=",
      tls_port_, ", ssl=True, ssl_ca_certs='", Ca(), "', ssl_certfile='",
      cluster().tls_file("client.pem"), "', ssl_keyfile='", cluster().tls_file("client.key"),
      "')\n"
      "r.mset({'py:a': 'x' * 100000, 'py:b': '2', 'py:c': '3'})\n"
      "p = r.pipeline(transaction=False)\n"
      "for i in range(2000): p.incr('py:counter')\n"
      "last = p.execute()[-1]\n"
      "a, b, c = r.mget('py:a', 'py:b', 'py:c')\n"
      "print(len(a), b.decode(), c.decode(), last, r.delete('py:a', 'py:b', 'py:c', "
      "'py:counter'))\n");
  ASSERT_OK_AND_ASSIGN(CommandResult result,
                       RunCommand({kPython, "-c", script}, dir_->path(), kClientTimeout));
  EXPECT_TRUE(result.Succeeded()) << result.output;
  // A 100 kB value spans several TLS records; 2,000 pipelined commands several reads.
  EXPECT_EQ(result.output, "100000 2 3 2000 4\n");
}

TEST_F(ProxyTlsTest, ClientsWithoutCertificateAreRefusedByDefault) {
  std::unique_ptr<ProxyProcess> proxy = StartProxy({});
  ASSERT_NE(proxy, nullptr);
  CommandResult without = RedisCli({"PING"}, /*with_cert=*/false);
  EXPECT_FALSE(absl::StrContains(without.output, "PONG")) << without.output;
  CommandResult with = RedisCli({"PING"}, /*with_cert=*/true);
  EXPECT_EQ(with.output, "PONG\n");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> plain, proxy->Connect());
  EXPECT_EQ(plain->Command({"PROXY", "CONFIG", "GET", "tls-auth-clients"}),
            Reply::Array({Reply::String("tls-auth-clients"), Reply::String("yes")}));

  std::unique_ptr<ProxyProcess> optional = StartProxy({"--tls-auth-clients", "optional"});
  ASSERT_NE(optional, nullptr);
  EXPECT_EQ(RedisCli({"PING"}, /*with_cert=*/false).output, "PONG\n");
}

TEST_F(ProxyTlsTest, SighupReloadsTheCertificate) {
  namespace fs = std::filesystem;
  const std::string live_cert = dir_->File("live.pem");
  const std::string live_key = dir_->File("live.key");
  fs::copy_file(cluster().tls_file("proxy.pem"), live_cert);
  fs::copy_file(cluster().tls_file("proxy.key"), live_key);
  std::unique_ptr<ProxyProcess> proxy = StartProxy({}, live_cert, live_key);
  ASSERT_NE(proxy, nullptr);
  EXPECT_TRUE(absl::StrContains(PresentedSubject(), "CN = slotplane proxy"));

  ASSERT_OK(MakeTestCertificate(cluster().tls_dir(), "renewed", "slotplane proxy renewed"));
  fs::copy_file(cluster().tls_file("renewed.pem"), live_cert, fs::copy_options::overwrite_existing);
  fs::copy_file(cluster().tls_file("renewed.key"), live_key, fs::copy_options::overwrite_existing);
  ASSERT_EQ(kill(proxy->pid(), SIGHUP), 0);
  std::string subject;
  EXPECT_TRUE(WaitFor(
      [&] {
        subject = PresentedSubject();
        return absl::StrContains(subject, "CN = slotplane proxy renewed");
      },
      kReloadTimeout, absl::Milliseconds(100)))
      << subject;
  EXPECT_EQ(RedisCli({"PING"}).output, "PONG\n");

  // A broken file is refused: the certificate in use stays.
  std::ofstream(live_key, std::ios::trunc) << "not a key\n";
  ASSERT_EQ(kill(proxy->pid(), SIGHUP), 0);
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(proxy->LogText(), "TLS reload failed"); },
                      kReloadTimeout, absl::Milliseconds(50)))
      << proxy->LogText();
  EXPECT_TRUE(absl::StrContains(PresentedSubject(), "CN = slotplane proxy renewed"));
  EXPECT_TRUE(proxy->IsAlive());
}

TEST_F(ProxyTlsTest, EncryptedKeyPassphraseStaysSecret) {
  const std::string pass = "tls-passphrase-4e1f";
  ASSERT_OK(MakeTestCertificate(cluster().tls_dir(), "locked", "slotplane proxy locked", pass));
  std::unique_ptr<ProxyProcess> proxy =
      StartProxy({"--tls-key-file-pass", pass}, cluster().tls_file("locked.pem"),
                 cluster().tls_file("locked.key"));
  ASSERT_NE(proxy, nullptr);
  EXPECT_EQ(RedisCli({"PING"}).output, "PONG\n");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> plain, proxy->Connect());
  EXPECT_EQ(plain->Command({"PROXY", "CONFIG", "GET", "tls-key-file-pass"}),
            Reply::Array({Reply::String("tls-key-file-pass"), Reply::String("(set)")}));
  EXPECT_FALSE(absl::StrContains(proxy->LogText(), pass));
}

TEST_F(ProxyTlsTest, TlsOnlyProxyWithPortZero) {
  // `port 0` beside a tls-port: no plaintext listener, as in Redis. ProxyProcess needs a
  // plaintext port to see the proxy up, so this proxy is a second one, checked over TLS only.
  ASSERT_OK_AND_ASSIGN(uint16_t tls_port, PickFreePort(/*with_cluster_bus=*/false));
  ASSERT_OK_AND_ASSIGN(uint16_t plain_port, PickFreePort(/*with_cluster_bus=*/false));
  SpawnOptions spawn;
  spawn.argv = {std::string(SLOTPLANE_BIN_DIR) + "/slotplane-proxy",
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--threads",
                "1",
                "--tls-port",
                absl::StrCat(tls_port),
                "--tls-cert-file",
                cluster().tls_file("proxy.pem"),
                "--tls-key-file",
                cluster().tls_file("proxy.key"),
                "--tls-ca-cert-file",
                Ca(),
                "--tls-cluster",
                "yes",
                "--tls-client-cert-file",
                cluster().tls_file("client.pem"),
                "--tls-client-key-file",
                cluster().tls_file("client.key"),
                "--cluster",
                cluster().tls_address(0).ToString()};
  spawn.output_path = dir_->File("tls-only.log");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ChildProcess> child, ChildProcess::Spawn(spawn));
  tls_port_ = tls_port;
  std::string last;
  EXPECT_TRUE(WaitFor(
      [&] {
        last = RedisCli({"SET", "tls:only", "1"}).output;
        return last == "OK\n";
      },
      absl::Seconds(30), absl::Milliseconds(100)))
      << last << ReadFileOrEmpty(dir_->File("tls-only.log"));
  // Nothing listens in plaintext: `port 0` did not mean a kernel-chosen port either.
  EXPECT_FALSE(TestClient::Connect("127.0.0.1", plain_port).ok());
  EXPECT_FALSE(absl::StrContains(ReadFileOrEmpty(dir_->File("tls-only.log")), "ready on port"))
      << ReadFileOrEmpty(dir_->File("tls-only.log"));
}

TEST_F(ProxyTlsTest, ControlPlanePollsTheClusterOverTls) {
  ControlOptions control_options;
  control_options.cluster = {cluster().tls_address(0)};
  control_options.admin_token = "tls-cluster-token";
  control_options.extra_args = {"--tls-cluster",          "yes",
                                "--tls-ca-cert-file",     Ca(),
                                "--tls-client-cert-file", cluster().tls_file("client.pem"),
                                "--tls-client-key-file",  cluster().tls_file("client.key")};
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(control_options));
  std::string topology;
  EXPECT_TRUE(WaitFor(
      [&] {
        auto result = control->Ctl({"topology"});
        topology = result.ok() ? result->output : std::string(result.status().message());
        return absl::StrContains(topology, cluster().tls_address(1).ToString());
      },
      absl::Seconds(30), absl::Milliseconds(100)))
      << topology;
  std::set<std::string> words;
  for (absl::string_view word : absl::StrSplit(topology, absl::ByAnyChar(" \t\n,"))) {
    words.insert(std::string(word));
  }
  for (int node = 0; node < cluster().node_count(); ++node) {
    EXPECT_EQ(words.count(cluster().tls_address(node).ToString()), 1u) << topology;
    EXPECT_EQ(words.count(cluster().address(node).ToString()), 0u) << topology;
  }

  // A proxy of that control plane reaches the nodes over TLS with the snapshot's addresses.
  ProxyOptions options = FleetProxyOptions(*control, "tls-fleet", "", {});
  options.extra_args.insert(options.extra_args.end(),
                            {"--tls-cluster", "yes", "--tls-ca-cert-file", Ca(),
                             "--tls-client-cert-file", cluster().tls_file("client.pem"),
                             "--tls-client-key-file", cluster().tls_file("client.key")});
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(options));
  ASSERT_OK(WaitForFleet(*control, {proxy.get()}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  EXPECT_EQ(client->Command({"SET", "tls:fleet", "v"}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"GET", "tls:fleet"}), Reply::String("v"));
}

}  // namespace
}  // namespace slotplane::integration
