#include "dataplane/core/proxy_config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/fleet_options.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

absl::StatusOr<ProxyOptions> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "slotplane-proxy");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
}

TEST(ProxyConfigTest, DefaultsMatchRedisClusterProxy) {
  auto o = Parse({"127.0.0.1:7000"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 7777);
  EXPECT_EQ(o->maxclients, 10000);
  EXPECT_EQ(o->tcpkeepalive, 300);
  EXPECT_EQ(o->tcp_backlog, 511);
  EXPECT_FALSE(o->enable_cross_slot);
  EXPECT_EQ(o->log_level, LogLevel::kInfo);
  EXPECT_EQ(o->proto_max_bulk_len, 512LL * 1024 * 1024);
  ASSERT_EQ(o->entry_points.size(), 1u);
  EXPECT_EQ(o->entry_points[0].ToString(), "127.0.0.1:7000");
}

TEST(ProxyConfigTest, UnixSocketOptionsAsRedis) {
  auto defaults = Parse({"127.0.0.1:7000"});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->unixsocket, "");     // no unix socket unless asked for
  EXPECT_EQ(defaults->unixsocketperm, 0);  // 0: the umask decides, as in Redis
  EXPECT_EQ(*GetOption(*defaults, "unixsocketperm"), "0");

  auto o = Parse({"--unixsocket", "/run/slotplane.sock", "--unixsocketperm", "770", "h:1"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->unixsocket, "/run/slotplane.sock");
  EXPECT_EQ(o->unixsocketperm, 0770);  // octal, as Redis reads it
  EXPECT_EQ(*GetOption(*o, "unixsocket"), "/run/slotplane.sock");
  EXPECT_EQ(*GetOption(*o, "unixsocketperm"), "770");
  auto leading_zero = Parse({"--unixsocketperm", "0700", "h:1"});
  ASSERT_TRUE(leading_zero.ok()) << leading_zero.status();
  EXPECT_EQ(leading_zero->unixsocketperm, 0700);

  for (const char* bad : {"800", "rw", "", "1000", "-1"}) {
    auto refused = Parse({"--unixsocketperm", bad, "h:1"});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(std::string(refused.status().message()).find("unixsocketperm"), std::string::npos)
        << refused.status();
  }
}

TEST(ProxyConfigTest, CommandLineOptions) {
  auto o = Parse({"-p", "9000", "--threads", "3", "--cluster", "10.0.0.1:7000,10.0.0.2:7000",
                  "--entry-point", "h:1", "--enable-cross-slot", "--log-level", "debug",
                  "--proto-max-bulk-len", "2mb", "--auth", "secret"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 9000);
  EXPECT_EQ(o->threads, 3);
  EXPECT_EQ(o->entry_points.size(), 3u);
  EXPECT_TRUE(o->enable_cross_slot);
  EXPECT_EQ(o->log_level, LogLevel::kDebug);
  EXPECT_EQ(o->proto_max_bulk_len, 2 * 1024 * 1024);
  EXPECT_EQ(o->auth, "secret");
  EXPECT_EQ(*GetOption(*o, "auth"), "(set)") << "credentials are never shown";
}

TEST(ProxyConfigTest, SecretOptionsAreHiddenFromTheProcessList) {
  std::vector<std::string> args = {"slotplane-proxy",
                                   "--requirepass",
                                   "pw1",
                                   "--auth",
                                   "pw2",
                                   "--user",
                                   "alice on >pw3",
                                   "--tls-key-file-pass",
                                   "pw4",
                                   "--auth-user",
                                   "bob",
                                   "--port",
                                   "7000"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  const std::vector<std::string> hidden =
      HideSecretArguments(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(hidden, (std::vector<std::string>{"requirepass", "auth", "user", "tls-key-file-pass"}));
  for (const std::string& arg : args) {
    EXPECT_EQ(arg.find("pw"), std::string::npos) << arg;
  }
  EXPECT_EQ(args[10], "bob") << "a user name is not a secret";
  EXPECT_EQ(args[12], "7000");
}

TEST(ProxyConfigTest, ConfigFileThenFlagsOverride) {
  char path[] = "/tmp/slotplane-proxy-conf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "port 8000\nthreads 4\ncluster 127.0.0.1:7000\nenable-cross-slot yes\n";
  auto o = Parse({"-c", path, "--threads", "2"});
  std::remove(path);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 8000);
  EXPECT_EQ(o->threads, 2);
  EXPECT_TRUE(o->enable_cross_slot);
}

// As in redis.conf: one line per class, each adding to the option; on the command line the
// whole value is one argument.
TEST(ProxyConfigTest, ClientOutputBufferLimitLinesAddUp) {
  char path[] = "/tmp/slotplane-proxy-conf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "client-output-buffer-limit normal 64mb 16mb 30\n"
                      << "client-output-buffer-limit pubsub 1mb 0 0\n"
                      << "timeout 300\n";
  auto o = Parse({"-c", path, "127.0.0.1:7000"});
  std::remove(path);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(*GetOption(*o, "client-output-buffer-limit"),
            "normal 67108864 16777216 30 pubsub 1048576 0 0");
  EXPECT_EQ(o->timeout, 300);
  auto flags = Parse({"--client-output-buffer-limit", "normal 0 0 0", "127.0.0.1:7000"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(*GetOption(*flags, "client-output-buffer-limit"),
            "normal 0 0 0 pubsub 33554432 8388608 60");
}

TEST(ProxyConfigTest, BadValuesNameTheOption) {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  const Case cases[] = {
      {{"--port", "99999", "h:1"}, "'port'"},
      {{"--threads", "abc", "h:1"}, "'threads'"},
      {{"--enable-cross-slot", "maybe", "h:1"}, "'enable-cross-slot'"},
      {{"--log-level", "loud", "h:1"}, "'log-level'"},
      {{"--cluster", "nohostport"}, "'cluster'"},
      {{"--no-such-option", "1", "h:1"}, "--no-such-option"},
      {{"--port"}, "needs a value"},
      {{}, "no cluster entry point"},
  };
  for (const Case& c : cases) {
    auto o = Parse(c.args);
    ASSERT_FALSE(o.ok()) << c.expected;
    EXPECT_NE(o.status().message().find(c.expected), std::string::npos) << o.status();
  }
}

TEST(ProxyConfigTest, ErrorsShowNoPasswordAndOnlyTheStartOfAHugeValue) {
  for (const char* rules : {"dave on >hunter2 secretword", "dave on >hunter2 #12345"}) {
    auto o = Parse({"h:1", "--user", rules});
    ASSERT_FALSE(o.ok()) << rules;
    const std::string message(o.status().message());
    EXPECT_NE(message.find("option 'user': user 'dave'"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
    EXPECT_EQ(message.find("secretword"), std::string::npos) << message;
    EXPECT_EQ(message.find("12345"), std::string::npos) << message;
  }
  auto key_rule = Parse({"h:1", "--user", "dave on >hunter2 allkeys ~cache:*"});
  ASSERT_FALSE(key_rule.ok());
  EXPECT_NE(key_rule.status().message().find("Error in ACL SETUSER modifier '~cache:*': Adding a "
                                             "pattern after the * pattern"),
            std::string::npos)
      << "a key rule is no password: it is named; " << key_rule.status();
  auto removed = Parse({"h:1", "--user", "dave on >hunter2 <hunter3"});
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.status().message().find("'<<redacted>': The password you are trying to remove "
                                            "from the user does not exist"),
            std::string::npos)
      << removed.status();
  EXPECT_EQ(removed.status().message().find("hunter"), std::string::npos) << removed.status();

  const std::string huge(100000, '9');
  auto o = Parse({"h:1", "--maxclients", huge.c_str()});
  ASSERT_FALSE(o.ok());
  EXPECT_LT(o.status().message().size(), 200u);
  EXPECT_NE(o.status().message().find("'maxclients'"), std::string::npos) << o.status();
}

TEST(ProxyConfigTest, EveryFleetOptionIsAnOption) {
  const std::vector<std::string> names = OptionNames();
  for (const FleetOption& option : FleetOptions()) {
    EXPECT_EQ(std::count(names.begin(), names.end(), option.name()), 1) << option.name();
  }
  auto o = Parse({"h:1", "--dump-queries", "--connections-pool-size", "3", "--read-policy", "any"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->dump_queries);
  EXPECT_EQ(o->connections_pool_size, 3);
  EXPECT_EQ(o->read_policy, ReadPolicy::kAny);
  EXPECT_EQ(*GetOption(*o, "read-policy"), "any");
}

TEST(ProxyConfigTest, ConfigFileErrorsNameFileAndLine) {
  char path[] = "/tmp/slotplane-proxy-conf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "port 8000\nmaxclients -5\n";
  auto o = Parse({"-c", path});
  std::remove(path);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find(std::string(path) + ":2"), std::string::npos) << o.status();
  EXPECT_NE(o.status().message().find("'maxclients'"), std::string::npos) << o.status();
}

TEST(ProxyConfigTest, HelpAndVersionAreNotErrors) {
  auto help = Parse({"--help"});
  ASSERT_TRUE(absl::IsCancelled(help.status()));
  EXPECT_NE(help.status().message().find("Usage"), std::string::npos);
  EXPECT_TRUE(absl::IsCancelled(Parse({"--version"}).status()));
}

TEST(ProxyConfigTest, HelpShowsEveryOptionWithItsDefaultAndWhenItChanges) {
  const std::string usage = UsageText();
  for (const std::string& name : OptionNames()) {
    const std::string start = "  --" + name + " ";
    const size_t at = usage.find(start);
    ASSERT_NE(at, std::string::npos) << name << " is not in --help";
    const std::string line = usage.substr(at, usage.find('\n', at) - at);
    // A description, then the default, then whether it changes at runtime.
    const std::string after_name = line.substr(start.size());
    EXPECT_FALSE(absl::StartsWith(absl::StripLeadingAsciiWhitespace(after_name), "(default"))
        << "no description: " << line;
    EXPECT_NE(line.find(" (default "), std::string::npos) << line;
    const bool runtime =
        FindFleetOption(name) != nullptr || name == "requirepass" || name == "user";
    EXPECT_TRUE(absl::EndsWith(line, runtime ? "[runtime]" : "[restart]")) << line;
  }
  EXPECT_NE(usage.find("--port "), std::string::npos);
  EXPECT_NE(usage.find("(default 7777) [restart]"), std::string::npos) << usage;
  EXPECT_NE(usage.find("(default 10000) [runtime]"), std::string::npos) << usage;  // maxclients
  EXPECT_NE(usage.find("(default 0) [restart]"), std::string::npos) << usage;
  // A secret's default is never a value: "none" or nothing set.
  EXPECT_EQ(usage.find("(set)"), std::string::npos) << usage;
}

TEST(ProxyConfigTest, GetOptionKnowsEveryOption) {
  ProxyOptions o;
  for (const std::string& name : OptionNames()) {
    EXPECT_TRUE(GetOption(o, name).ok()) << name;
  }
  EXPECT_FALSE(GetOption(o, "nope").ok());
}

TEST(ProxyConfigTest, ControlPlaneOptions) {
  auto o = Parse({"--control-plane", "127.0.0.1:5000", "--control-plane-token-file", "/t",
                  "--control-plane-proxy-token-file", "/pt", "--control-plane-cache",
                  "/var/cache/p.snapshot", "--proxy-id", "p1"});
  ASSERT_TRUE(o.ok()) << o.status() << ": no entry point is needed with a control plane";
  EXPECT_EQ(o->control_plane, "127.0.0.1:5000");
  EXPECT_EQ(o->control_plane_token_file, "/t");
  EXPECT_EQ(o->control_plane_proxy_token_file, "/pt");
  EXPECT_EQ(o->control_plane_cache, "/var/cache/p.snapshot");
  EXPECT_EQ(o->EffectiveProxyId(), "p1");
  EXPECT_TRUE(o->entry_points.empty());
  EXPECT_EQ(*GetOption(*o, "control-plane"), "127.0.0.1:5000");

  o = Parse({"--control-plane", "127.0.0.1:5000", "-p", "7000"});
  ASSERT_TRUE(o.ok());
  EXPECT_NE(o->EffectiveProxyId().find(":7000"), std::string::npos) << o->EffectiveProxyId();

  EXPECT_FALSE(Parse({"--control-plane", "nohostport"}).ok());
  auto mtls = Parse({"--control-plane", "h:1", "--control-plane-tls-cert", "c.pem"});
  ASSERT_FALSE(mtls.ok());
  EXPECT_NE(mtls.status().message().find("control-plane-tls-key"), std::string::npos);
}

TEST(ProxyConfigTest, TlsOptionsWithRedisNames) {
  auto o = Parse({"h:1",
                  "--tls-port",
                  "6380",
                  "--tls-cert-file",
                  "s.pem",
                  "--tls-key-file",
                  "s.key",
                  "--tls-key-file-pass",
                  "hidden",
                  "--tls-ca-cert-file",
                  "ca.pem",
                  "--tls-auth-clients",
                  "optional",
                  "--tls-protocols",
                  "TLSv1.3",
                  "--tls-cluster",
                  "--tls-client-cert-file",
                  "c.pem",
                  "--tls-client-key-file",
                  "c.key",
                  "--tls-prefer-server-ciphers",
                  "yes"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->tls_port, 6380);
  EXPECT_TRUE(o->tls_cluster);
  EXPECT_EQ(o->tls.cert_file, "s.pem");
  EXPECT_EQ(o->tls.key_file_pass, "hidden");
  EXPECT_EQ(o->tls.auth_clients, TlsAuthClients::kOptional);
  EXPECT_EQ(o->tls.client_cert_file, "c.pem");
  EXPECT_TRUE(o->tls.prefer_server_ciphers);
  EXPECT_EQ(*GetOption(*o, "tls-key-file-pass"), "(set)") << "never shown";
  EXPECT_EQ(*GetOption(*o, "tls-auth-clients"), "optional");
  EXPECT_EQ(*GetOption(*o, "tls-protocols"), "TLSv1.3");
  EXPECT_TRUE(o->PlainListener());

  auto defaults = Parse({"h:1"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->tls_port, 0);
  EXPECT_EQ(defaults->tls.auth_clients, TlsAuthClients::kYes) << "Redis's default";

  auto tls_only = Parse({"h:1", "--port", "0", "--tls-port", "6380", "--tls-cert-file", "s.pem",
                         "--tls-key-file", "s.key", "--tls-auth-clients", "no"});
  ASSERT_TRUE(tls_only.ok()) << tls_only.status();
  EXPECT_FALSE(tls_only->PlainListener()) << "port 0 beside tls-port: no plaintext listener";
}

TEST(ProxyConfigTest, TlsCombinationsRedisRefuses) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"h:1", "--tls-port", "6380"}, "tls-port needs tls-cert-file and tls-key-file"},
      {{"h:1", "--tls-port", "6380", "--tls-cert-file", "s.pem"},
       "tls-cert-file and tls-key-file go together"},
      {{"h:1", "--tls-port", "6380", "--tls-cert-file", "s.pem", "--tls-key-file", "s.key"},
       "tls-auth-clients yes/optional needs tls-ca-cert-file"},
      {{"h:1", "--tls-cluster", "yes"}, "tls-cluster yes needs tls-ca-cert-file"},
      {{"h:1", "--tls-cluster", "yes", "--tls-ca-cert-file", "ca.pem", "--tls-client-cert-file",
        "c.pem"},
       "tls-client-cert-file and tls-client-key-file go together"},
      {{"h:1", "--tls-auth-clients", "maybe"}, "tls-auth-clients"},
  };
  for (const auto& [args, message] : cases) {
    auto o = Parse(args);
    ASSERT_FALSE(o.ok()) << message;
    EXPECT_NE(o.status().message().find(message), std::string::npos) << o.status();
  }
}

TEST(ProxyConfigTest, IoUringRecvBuffersIsAPowerOfTwoInRange) {
  auto o = Parse({"h:1", "--io-uring-recv-buffers", "1024"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->io_uring_recv_buffers, 1024);
  EXPECT_EQ(Parse({"h:1"})->io_uring_recv_buffers, 256);
  for (const char* bad : {"100", "8", "65536", "0", "-16"}) {
    auto rejected = Parse({"h:1", "--io-uring-recv-buffers", bad});
    EXPECT_FALSE(rejected.ok()) << bad;
    EXPECT_NE(rejected.status().message().find("io-uring-recv-buffers"), std::string::npos)
        << rejected.status();
  }
}

TEST(ProxyConfigTest, ClientAuthOptions) {
  auto o = Parse({"h:1", "--requirepass", "pw", "--user", "alice on >secret ~* +@all"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->requirepass, "pw");
  EXPECT_EQ(*GetOption(*o, "requirepass"), "(set)") << "never shown";
  ASSERT_EQ(o->users.size(), 1u);
  EXPECT_EQ(o->users[0].name, "alice");
  EXPECT_TRUE(o->users[0].enabled);
  EXPECT_EQ(*GetOption(*o, "user"), "alice");

  char path[] = "/tmp/slotplane-proxy-conf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "cluster h:1\nuser bob on \">two words\"\nuser carol off\n";
  o = Parse({"-c", path});
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->users.size(), 2u);
  EXPECT_TRUE(o->users[0].enabled);
  EXPECT_EQ(o->users[0].password_sha256.size(), 1u) << "a quoted password with a space";
  EXPECT_FALSE(o->users[1].enabled);
  std::ofstream(path) << "cluster h:1\nuser bob on\nuser bob off\n";
  o = Parse({"-c", path});
  std::remove(path);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("duplicate user 'bob'"), std::string::npos) << o.status();
  EXPECT_TRUE(Parse({"h:1", "--user", "dave on -@dangerous"}).ok()) << "ACL rules are taken";
  EXPECT_FALSE(Parse({"h:1", "--user", "dave on +@nosuchcategory"}).ok());
}

// A huge invalid value (from a config file: the command line caps an argument at 128 KiB) is
// echoed by its first 64 bytes only, and a huge rule of a user as well.
TEST(ProxyConfigTest, AThreeMegabyteValueIsNotEchoed) {
  const std::string path = ::testing::TempDir() + "/huge.conf";
  const std::string huge(3 << 20, '9');
  std::ofstream(path) << "cluster h:1\nmaxclients " << huge << "\nuser eve on +" << huge << "\n";
  auto o = Parse({"-c", path.c_str()});
  ASSERT_FALSE(o.ok());
  EXPECT_LT(o.status().message().size(), 300u) << o.status().message().substr(0, 300);
  std::ofstream(path) << "cluster h:1\nuser eve on +" << huge << "\n";
  o = Parse({"-c", path.c_str()});
  std::remove(path.c_str());
  ASSERT_FALSE(o.ok());
  EXPECT_LT(o.status().message().size(), 300u) << o.status().message().substr(0, 300);
}

}  // namespace
}  // namespace slotplane::dataplane
