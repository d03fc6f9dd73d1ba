#include "controlplane/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace slotplane::control {
namespace {

absl::StatusOr<ControlOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "slotplane-control");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseControlCommandLine(static_cast<int>(argv.size()), argv.data());
}

std::string Error(const absl::StatusOr<ControlOptions>& options) {
  return options.ok() ? "" : std::string(options.status().message());
}

TEST(ControlOptionsTest, Minimal) {
  auto options = Parse({"--cluster", "127.0.0.1:7001", "--data-dir", "/tmp/x"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->listen, "127.0.0.1:7700");
  EXPECT_EQ(options->poll_interval_ms, 1000);
  ASSERT_EQ(options->cluster.size(), 1u);
  EXPECT_EQ(options->cluster[0].port, 7001);
  EXPECT_TRUE(options->initial_policy.empty());
}

TEST(ControlOptionsTest, EveryFlag) {
  auto options = Parse({"--listen",
                        "0.0.0.0:7800",
                        "--cluster",
                        "a:1,b:2",
                        "c:3",
                        "--data-dir",
                        "/d",
                        "--poll-interval",
                        "250",
                        "--admin-token-file",
                        "/t",
                        "--metrics-port",
                        "9100",
                        "--log-level",
                        "debug",
                        "--tls-cert",
                        "/c",
                        "--tls-key",
                        "/k",
                        "--tls-client-ca",
                        "/ca",
                        "--auth",
                        "pw",
                        "--auth-user",
                        "u",
                        "--enable-cross-slot",
                        "--maxclients",
                        "50"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->listen, "0.0.0.0:7800");
  EXPECT_EQ(options->cluster.size(), 3u);
  EXPECT_EQ(options->poll_interval_ms, 250);
  EXPECT_EQ(options->metrics_port, 9100);
  EXPECT_EQ(options->log_level, LogLevel::kDebug);
  EXPECT_EQ(options->auth, "pw");
  EXPECT_EQ(options->initial_policy.at("auth"), "pw");
  EXPECT_EQ(options->initial_policy.at("auth-user"), "u");
  EXPECT_EQ(options->initial_policy.at("enable-cross-slot"), "yes");
  EXPECT_EQ(options->initial_policy.at("maxclients"), "50");
}

TEST(ControlOptionsTest, SecretOptionsAreHiddenFromTheProcessList) {
  std::vector<std::string> args = {
      "slotplane-control",          "--auth", "pw1", "--auth-user", "bob",
      "--tls-client-key-file-pass", "pw2"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  EXPECT_EQ(HideSecretArguments(static_cast<int>(argv.size()), argv.data()),
            (std::vector<std::string>{"auth", "tls-client-key-file-pass"}));
  EXPECT_EQ(args[2], "xxx");
  EXPECT_EQ(args[4], "bob");
  EXPECT_EQ(args[6], "xxx");
}

TEST(ControlOptionsTest, ErrorsNameTheOption) {
  EXPECT_NE(Error(Parse({"--data-dir", "/d"})).find("--cluster"), std::string::npos);
  EXPECT_NE(Error(Parse({"--cluster", "a:1"})).find("--data-dir"), std::string::npos);
  EXPECT_EQ(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--poll-interval", "fast"})),
            "invalid value 'fast' for option 'poll-interval': not an integer");
  EXPECT_EQ(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--listen", "nowhere"})),
            "invalid value 'nowhere' for option 'listen': invalid address \"nowhere\": expected "
            "\"host:port\"");
  EXPECT_NE(Error(Parse({"--cluster", "a:99999", "--data-dir", "/d"})).find("option 'cluster'"),
            std::string::npos);
  EXPECT_EQ(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--port", "1"})),
            "unknown option --port");
  EXPECT_EQ(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--bogus", "1"})),
            "unknown option --bogus");
  EXPECT_EQ(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--tls-cert", "/c"})),
            "options 'tls-cert' and 'tls-key' go together");
  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--tls-client-ca", "/c"}))
                .find("needs TLS"),
            std::string::npos);
  EXPECT_EQ(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--maxclients"})),
            "option --maxclients needs a value");
}

TEST(ControlOptionsTest, ConfigFileThenFlags) {
  char path[] = "/tmp/slotplane-control-conf.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "# control plane\ncluster 127.0.0.1:7001\ndata-dir /var/lib/sp\npoll-interval 500\n"
           "read-policy replica\n";
  }
  auto options = Parse({"-c", path, "--poll-interval", "700"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->poll_interval_ms, 700) << "flags override the file";
  EXPECT_EQ(options->data_dir, "/var/lib/sp");
  EXPECT_EQ(options->initial_policy.at("read-policy"), "replica");
  {
    std::ofstream out(path);
    out << "cluster 127.0.0.1:7001\ndata-dir /d\nmetrics-port lots\n";
  }
  const std::string error = Error(Parse({"-c", path}));
  EXPECT_NE(error.find(std::string(path) + ":3: invalid value 'lots' for option 'metrics-port'"),
            std::string::npos)
      << error;
  unlink(path);
}

// redis.conf's form: one line per class, each adding to the initial policy's value.
TEST(ControlOptionsTest, ClientOutputBufferLimitLinesAddUp) {
  char path[] = "/tmp/slotplane-control-conf.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "cluster 127.0.0.1:7001\ndata-dir /d\n"
           "client-output-buffer-limit normal 64mb 0 0\n"
           "client-output-buffer-limit pubsub 1mb 0 0\n";
  }
  auto options = Parse({"-c", path});
  unlink(path);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->initial_policy.at("client-output-buffer-limit"),
            "normal 67108864 0 0 pubsub 1048576 0 0");
}

TEST(ControlOptionsTest, HelpAndVersion) {
  auto help = Parse({"--help"});
  ASSERT_TRUE(absl::IsCancelled(help.status()));
  EXPECT_NE(std::string(help.status().message()).find("--poll-interval"), std::string::npos);
  EXPECT_TRUE(absl::IsCancelled(Parse({"--version"}).status()));
}

TEST(ControlOptionsTest, StoreIsAFileDirectoryOrEtcdEndpoints) {
  auto file = Parse({"--cluster", "a:1", "--store", "file:/var/lib/x"});
  ASSERT_TRUE(file.ok()) << file.status();
  auto spec = ParseStore(*file);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->dir, "/var/lib/x");
  EXPECT_TRUE(spec->endpoints.empty());
  // data-dir DIR is store file:DIR.
  auto dir = Parse({"--cluster", "a:1", "--data-dir", "/d"});
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(ParseStore(*dir)->dir, "/d");

  auto etcd =
      Parse({"--cluster", "a:1", "--store", "etcd://10.0.0.1:2379,etcd-1:2379", "--etcd-user",
             "slotplane", "--etcd-password-file", "/p", "--replica-id", "r1"});
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  spec = ParseStore(*etcd);
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->dir.empty());
  EXPECT_EQ(spec->endpoints, (std::vector<std::string>{"10.0.0.1:2379", "etcd-1:2379"}));
  EXPECT_EQ(etcd->etcd_prefix, "/slotplane/");
  EXPECT_EQ(etcd->replica_id, "r1");

  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--store", "file:/a", "--data-dir", "/b"}))
                .find("options 'store' and 'data-dir' both given"),
            std::string::npos);
  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--store", "etcd://"})).find("option 'store'"),
            std::string::npos);
  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--store", "etcd://h:99999"})).find("HOST:PORT"),
            std::string::npos);
  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--store", "redis://h:1"})).find("option 'store'"),
            std::string::npos);
  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--data-dir", "/d", "--etcd-user", "u",
                         "--etcd-password-file", "/p"}))
                .find("need --store etcd://"),
            std::string::npos);
  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--store", "etcd://h:1", "--etcd-user", "u"}))
                .find("'etcd-user' and 'etcd-password-file' go together"),
            std::string::npos);
  EXPECT_NE(Error(Parse({"--cluster", "a:1", "--store", "etcd://h:1", "--etcd-prefix", "/x"}))
                .find("must end with '/'"),
            std::string::npos);
}

}  // namespace
}  // namespace slotplane::control
