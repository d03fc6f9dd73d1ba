// slotplane-control as a real process over real gRPC against a real Redis Cluster: watch streams
// (snapshots, ACK/NACK, no resends), policy changes through slotplanectl, persistence across a
// restart, admin authentication and optimistic concurrency, metrics. Proxies are stood in for by
// WatchClient; the tests with real proxies live with the proxy's tests.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/password_digest.h"
#include "common/sha256.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "tests/integration/control_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/watch_client.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kSnapshotTimeout = absl::Seconds(10);

SharedClusterEnvironment::Options EnvironmentOptions() {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return options;
}

const auto* const kEnv = SharedClusterEnvironment::Register(EnvironmentOptions());
const auto* const kGrpc = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

class ControlPlaneTest : public SharedClusterTest {
 protected:
  void StartControl(ControlOptions options = {}) {
    options.cluster = cluster().addresses();
    ASSERT_OK_AND_ASSIGN(control_, ControlProcess::Start(options));
  }

  absl::StatusOr<std::unique_ptr<WatchClient>> Watch(const std::string& id = "proxy-1") {
    WatchClientOptions options;
    options.address = control_->address();
    options.proxy_id = id;
    options.listen_address = "127.0.0.1:17777";
    options.build_version = "1.2.3";
    options.token = control_->proxy_token();
    return WatchClient::Open(options);
  }

  // Runs slotplanectl and returns its output, asserting the exit code.
  std::string Ctl(const std::vector<std::string>& args, int expected_exit = 0) {
    absl::StatusOr<CommandResult> result = control_->Ctl(args);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return "";
    EXPECT_EQ(result->ExitCode(), expected_exit)
        << "slotplanectl " << absl::StrJoin(args, " ") << ":\n"
        << result->output;
    return result->output;
  }

  void TearDown() override {
    if (HasFailure() && control_ != nullptr) control_->PrintLog(80);
    control_.reset();
    SharedClusterTest::TearDown();
  }

  std::unique_ptr<ControlProcess> control_;
};

// slot -> master port, as the cluster says and as a snapshot says.
std::map<int, int> ClusterSlotMasters(RedisCluster& cluster) {
  std::map<int, int> owners;
  auto slot_owners = cluster.SlotOwners();
  EXPECT_TRUE(slot_owners.ok()) << slot_owners.status();
  if (!slot_owners.ok()) return owners;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    const int node = (*slot_owners)[slot];
    owners[slot] = node < 0 ? -1 : cluster.port(node);
  }
  return owners;
}

std::map<int, int> SnapshotSlotMasters(const v1::Snapshot& snapshot) {
  std::map<int, int> owners;
  for (int slot = 0; slot < kSlotCount; ++slot) owners[slot] = -1;
  for (const v1::Shard& shard : snapshot.config().topology().shards()) {
    for (const v1::SlotRange& range : shard.slots()) {
      for (uint32_t slot = range.first(); slot <= range.last(); ++slot) {
        owners[static_cast<int>(slot)] = static_cast<int>(shard.master().port());
      }
    }
  }
  return owners;
}

TEST_F(ControlPlaneTest, WatchGetsTheRealTopologyAndAckShowsInProxies) {
  StartControl();
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, watch->Next(kSnapshotTimeout));
  EXPECT_GE(snapshot.version(), 1u);
  EXPECT_EQ(snapshot.config().version(), snapshot.version());
  EXPECT_FALSE(snapshot.nonce().empty());
  EXPECT_EQ(SnapshotSlotMasters(snapshot), ClusterSlotMasters(cluster()));
  int replicas = 0;
  for (const v1::Shard& shard : snapshot.config().topology().shards()) {
    EXPECT_EQ(shard.master().health(), v1::NODE_HEALTH_ONLINE);
    EXPECT_EQ(shard.master().id().size(), 40u);
    replicas += shard.replicas_size();
  }
  EXPECT_EQ(replicas, 3);
  EXPECT_EQ(snapshot.config().policy().limits().maxclients(), 10000);

  ASSERT_OK(watch->Ack(snapshot));
  v1::ProxyStats stats;
  stats.set_connected_clients(7);
  stats.set_commands_processed(99);
  ASSERT_OK(watch->SendStats(stats));
  const std::string acked = absl::StrCat("\"acked_version\":", snapshot.version());
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const std::string out = Ctl({"proxies", "--json"});
        if (absl::StrContains(out, acked)) return absl::OkStatus();
        return absl::NotFoundError(out);
      },
      absl::Seconds(10)));
  const std::string json = Ctl({"proxies", "--json"});
  EXPECT_TRUE(absl::StrContains(json, "\"proxy_id\":\"proxy-1\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"listen_address\":\"127.0.0.1:17777\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"build_version\":\"1.2.3\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"hostname\":\"test-host\"")) << json;
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const std::string out = Ctl({"proxies", "--json"});
        if (absl::StrContains(out, "\"connected_clients\":7,\"commands_processed\":99")) {
          return absl::OkStatus();
        }
        return absl::NotFoundError(out);
      },
      absl::Seconds(10)));
  const std::string table = Ctl({"proxies"});
  EXPECT_TRUE(absl::StrContains(table, "proxy-1")) << table;
  EXPECT_TRUE(absl::StrContains(Ctl({"status"}), "1 connected, 1 on version"));
}

TEST_F(ControlPlaneTest, PolicyChangeReachesTheStreamAndWaitSeesTheAck) {
  StartControl();
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first, watch->Next(kSnapshotTimeout));
  ASSERT_OK(watch->Ack(first));
  EXPECT_FALSE(first.config().policy().enable_cross_slot());

  const std::string out = Ctl({"config", "set", "enable-cross-slot", "yes", "read-policy", "any"});
  const std::string expected_version = absl::StrCat("version ", first.version() + 1, "\n");
  EXPECT_EQ(out, expected_version);
  ASSERT_OK_AND_ASSIGN(v1::Snapshot second, watch->Next(kSnapshotTimeout));
  EXPECT_EQ(second.version(), first.version() + 1);
  EXPECT_TRUE(second.config().policy().enable_cross_slot());
  EXPECT_EQ(second.config().policy().read_policy(), v1::READ_POLICY_ANY);
  EXPECT_EQ(SnapshotSlotMasters(second), SnapshotSlotMasters(first)) << "topology unchanged";

  // `wait` blocks until the ACK comes.
  const std::string version = absl::StrCat(second.version());
  EXPECT_TRUE(
      absl::StrContains(Ctl({"wait", version, "--timeout", "0.5"}, 3), "waiting for: proxy-1"));
  ASSERT_OK(watch->Ack(second));
  EXPECT_EQ(Ctl({"wait", version, "--timeout", "10"}),
            absl::StrCat("version ", version, " acked by all 1 connected proxies\n"));
  EXPECT_EQ(Ctl({"config", "get", "enable-cross-slot"}), "yes\n");
}

TEST_F(ControlPlaneTest, NackIsRecordedAndVisible) {
  StartControl();
  ASSERT_OK_AND_ASSIGN(auto watch, Watch("nacker"));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first, watch->Next(kSnapshotTimeout));
  ASSERT_OK(watch->Ack(first));
  Ctl({"config", "set", "maxclients", "123"});
  ASSERT_OK_AND_ASSIGN(v1::Snapshot second, watch->Next(kSnapshotTimeout));
  ASSERT_OK(watch->Nack(second, "maxclients 123 is too low for this proxy"));
  const std::string nack = absl::StrCat("\"last_nack_version\":", second.version(),
                                        ",\"last_nack_error\":\"maxclients 123 is too low for "
                                        "this proxy\"");
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const std::string out = Ctl({"proxies", "--json"});
        if (absl::StrContains(out, nack)) return absl::OkStatus();
        return absl::NotFoundError(out);
      },
      absl::Seconds(10)));
  const std::string json = Ctl({"proxies", "--json"});
  EXPECT_TRUE(absl::StrContains(json, absl::StrCat("\"acked_version\":", first.version())))
      << "the proxy stays on its old version: " << json;
  const std::string wait = Ctl({"wait", absl::StrCat(second.version()), "--timeout", "0.5"}, 3);
  EXPECT_TRUE(absl::StrContains(wait, "NACKed")) << wait;
  EXPECT_TRUE(absl::StrContains(Ctl({"status"}), "1 rejected a newer version"));
}

TEST_F(ControlPlaneTest, UnchangedVersionsAreNeverResent) {
  ControlOptions options;
  options.poll_interval_ms = 100;  // many polls of an unchanged cluster
  StartControl(options);
  ASSERT_OK_AND_ASSIGN(auto a, Watch("a"));
  ASSERT_OK_AND_ASSIGN(auto b, Watch("b"));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first, a->Next(kSnapshotTimeout));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first_b, b->Next(kSnapshotTimeout));
  EXPECT_EQ(first_b.version(), first.version());
  ASSERT_OK(a->Ack(first));
  // No-op changes: the same value again, an explicit refresh of an unchanged cluster.
  EXPECT_EQ(Ctl({"config", "set", "maxclients", "10000"}),
            absl::StrCat("version ", first.version(), "\n"));
  EXPECT_EQ(Ctl({"refresh"}), absl::StrCat("topology unchanged (version ", first.version(), ")\n"));
  // An ACK with a foreign nonce or for a version never sent is ignored, and resends nothing.
  v1::ProxyMessage bogus;
  bogus.mutable_ack()->set_version(first.version() + 5);
  bogus.mutable_ack()->set_nonce("someone-else");
  ASSERT_OK(a->Send(bogus));
  absl::SleepFor(absl::Seconds(1.5));  // 15 polls: none may produce a message
  EXPECT_EQ(a->Queued(), 0u);
  EXPECT_EQ(b->Queued(), 0u);
  // A burst of real changes: each stream sees strictly increasing versions, never one twice,
  // ending with the last.
  uint64_t last = 0;
  for (int i = 1; i <= 5; ++i) {
    const std::string out = Ctl({"config", "set", "tryagain-retries", absl::StrCat(i)});
    ASSERT_TRUE(absl::SimpleAtoi(out.substr(8, out.size() - 9), &last)) << out;
  }
  for (WatchClient* client : {a.get(), b.get()}) {
    uint64_t seen = first.version();
    while (seen < last) {
      ASSERT_OK_AND_ASSIGN(v1::Snapshot s, client->Next(kSnapshotTimeout));
      EXPECT_GT(s.version(), seen);
      seen = s.version();
    }
    EXPECT_EQ(seen, last);
  }
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(a->Queued() + b->Queued(), 0u);
}

TEST_F(ControlPlaneTest, RestartKeepsPolicyUsersAndVersion) {
  StartControl();
  Ctl({"config", "set", "enable-cross-slot", "yes", "maxclients", "4242", "auth", "backend-pw"});
  Ctl({"users", "add", "alice", "--password", "wonderland"});
  const std::string before = Ctl({"config", "get", "--json"});
  const std::string users_before = Ctl({"users", "ls", "--json"});
  EXPECT_TRUE(absl::StrContains(before, "\"auth\":\"(set)\"")) << before;
  EXPECT_FALSE(absl::StrContains(before, "backend-pw"));
  EXPECT_FALSE(absl::StrContains(before, Sha256Hex("wonderland")));

  ASSERT_OK(control_->Stop());
  ASSERT_OK(control_->Restart());
  EXPECT_EQ(Ctl({"config", "get", "--json"}), before);
  EXPECT_EQ(Ctl({"users", "ls", "--json"}), users_before);

  // A proxy connecting now gets that same version, with the user's salted digest.
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, watch->Next(kSnapshotTimeout));
  EXPECT_TRUE(absl::StrContains(before, absl::StrCat("\"version\":", snapshot.version())));
  EXPECT_EQ(snapshot.config().policy().limits().maxclients(), 4242);
  EXPECT_EQ(snapshot.config().policy().backend().password(), "backend-pw");
  ASSERT_EQ(snapshot.config().policy().users_size(), 1);
  const v1::ClientUser& alice = snapshot.config().policy().users(0);
  ASSERT_EQ(alice.password_salted_sha256_size(), 1);
  EXPECT_EQ(alice.password_salted_sha256(0),
            SaltedPasswordDigest(alice.password_salt(), "wonderland"));

  // A crash (SIGKILL) loses nothing acknowledged either; the next change continues the count.
  control_->Kill();
  ASSERT_OK(control_->Restart());
  EXPECT_EQ(Ctl({"config", "get", "--json"}), before);
  EXPECT_EQ(Ctl({"config", "set", "maxclients", "4243"}),
            absl::StrCat("version ", snapshot.version() + 1, "\n"));
}

TEST_F(ControlPlaneTest, AdminNeedsTheAdminToken) {
  ControlOptions options;
  options.admin_token = "correct horse battery staple";
  StartControl(options);
  // Without a token and with a wrong one: UNAUTHENTICATED, exit code 2.
  const std::vector<std::string> base = {std::string(SLOTPLANE_BIN_DIR) + "/slotplanectl", "--addr",
                                         control_->address()};
  auto no_token = RunCommand({base[0], base[1], base[2], "config", "set", "maxclients", "5"},
                             cluster().work_dir(), absl::Seconds(30));
  ASSERT_OK(no_token);
  EXPECT_EQ(no_token->ExitCode(), 2) << no_token->output;
  EXPECT_TRUE(absl::StrContains(no_token->output, "UNAUTHENTICATED")) << no_token->output;
  const std::string wrong_file = cluster().work_dir() + "/wrong.token";
  { std::ofstream(wrong_file) << "tr0ub4dor&3\n"; }
  auto wrong = RunCommand({base[0], base[1], base[2], "--token-file", wrong_file, "status"},
                          cluster().work_dir(), absl::Seconds(30));
  ASSERT_OK(wrong);
  EXPECT_EQ(wrong->ExitCode(), 2) << wrong->output;
  EXPECT_TRUE(absl::StrContains(wrong->output, "wrong admin token")) << wrong->output;
  EXPECT_FALSE(absl::StrContains(control_->LogText(), "correct horse")) << "never logged";
  EXPECT_EQ(Ctl({"config", "get", "maxclients"}), "10000\n") << "nothing changed";
}

// A stream without the proxy token: refused before it gets anything, not listed as a proxy.
void ExpectRefused(WatchClient& watch, grpc::StatusCode code, const std::string& message) {
  absl::StatusOr<grpc::Status> end = watch.WaitForEnd(kSnapshotTimeout);
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(end->error_code(), code) << end->error_message();
  EXPECT_TRUE(absl::StrContains(end->error_message(), message)) << end->error_message();
  EXPECT_EQ(watch.Queued(), 0u) << "no snapshot, so no secret";
}

TEST_F(ControlPlaneTest, WatchNeedsTheProxyToken) {
  ControlOptions options;
  options.admin_token = "admin-secret-token";
  options.proxy_token = "proxy-secret-token";
  StartControl(options);
  Ctl({"config", "set", "auth", "backend-secret"});
  Ctl({"users", "add", "alice", "--password", "wonder"});
  WatchClientOptions plain;
  plain.address = control_->address();
  plain.proxy_id = "intruder";
  plain.send_hello = false;  // the stream may be refused before a Hello could be written
  for (const std::string& token :
       {std::string(), std::string("admin-secret-token"), std::string("proxy-secret-toke")}) {
    plain.token = token;
    ASSERT_OK_AND_ASSIGN(auto intruder, WatchClient::Open(plain));
    intruder->Hello().IgnoreError();
    ExpectRefused(*intruder, grpc::StatusCode::UNAUTHENTICATED,
                  token.empty() ? "the watch stream needs the proxy token" : "wrong proxy token");
  }
  const std::string proxies = Ctl({"proxies"});
  EXPECT_TRUE(absl::StrContains(proxies, "0 proxies")) << proxies;
  EXPECT_FALSE(absl::StrContains(proxies, "intruder")) << proxies;
  const std::string log = control_->LogText();
  EXPECT_TRUE(absl::StrContains(log, "refused a watch stream")) << log;
  EXPECT_FALSE(absl::StrContains(log, "secret-token")) << "tokens are never logged";

  ASSERT_OK_AND_ASSIGN(auto proxy, Watch());
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, proxy->Next(kSnapshotTimeout));
  EXPECT_EQ(snapshot.config().policy().backend().password(), "backend-secret")
      << "the backend password reaches the authenticated proxy";
  ASSERT_EQ(snapshot.config().policy().users_size(), 1);
  EXPECT_EQ(snapshot.config().policy().users(0).password_sha256_size(), 0);
  EXPECT_EQ(snapshot.config().policy().users(0).password_salted_sha256_size(), 1);
}

TEST_F(ControlPlaneTest, StartRefusedWithoutAProxyCredentialOrWithTheAdminTokenAsIt) {
  ControlOptions none;
  none.cluster = cluster().addresses();
  none.proxy_token = "";
  none.start_timeout = absl::Seconds(20);
  absl::StatusOr<std::unique_ptr<ControlProcess>> open = ControlProcess::Start(none);
  ASSERT_FALSE(open.ok());
  EXPECT_TRUE(absl::StrContains(open.status().message(),
                                "the watch stream needs a proxy credential: give proxy-token-file"))
      << open.status();
  ControlOptions same = none;
  same.admin_token = same.proxy_token = "one-token-for-both";
  absl::StatusOr<std::unique_ptr<ControlProcess>> shared = ControlProcess::Start(same);
  ASSERT_FALSE(shared.ok());
  EXPECT_TRUE(absl::StrContains(shared.status().message(),
                                "the proxy token must differ from the admin token"))
      << shared.status();
  EXPECT_FALSE(absl::StrContains(shared.status().message(), "one-token-for-both"));
}

TEST_F(ControlPlaneTest, AProxyIdCannotBeClaimedTwice) {
  StartControl();
  ASSERT_OK_AND_ASSIGN(auto first, Watch("proxy-a"));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, first->Next(kSnapshotTimeout));
  ASSERT_OK(first->Ack(snapshot));
  ASSERT_OK_AND_ASSIGN(auto second, Watch("proxy-a"));
  ExpectRefused(*second, grpc::StatusCode::ALREADY_EXISTS,
                "proxy id 'proxy-a' is already connected");
  const std::string proxies = Ctl({"proxies", "--json"});
  EXPECT_EQ(proxies.find("proxy-a"), proxies.rfind("proxy-a")) << "listed once: " << proxies;
  ASSERT_OK_AND_ASSIGN(auto other, Watch("proxy-b"));
  EXPECT_OK(other->Next(kSnapshotTimeout));
  // Once the first stream ended the id is free again (a reconnecting proxy gets back in).
  first.reset();
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        auto again = Watch("proxy-a");
        if (!again.ok()) return again.status();
        return (*again)->Next(kSnapshotTimeout).status();
      },
      absl::Seconds(20), absl::Milliseconds(100)));
}

TEST_F(ControlPlaneTest, MalformedWaitForVersionIsInvalidArgument) {
  StartControl();
  auto channel = grpc::CreateChannel(control_->address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  auto call = [&](const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/slotplane.v1.Admin/WaitForVersion", grpc::StubOptions(), &request,
                   &response, [&done](grpc::Status status) { done.set_value(status); });
    return done.get_future().get();
  };
  // A truncated varint (field 1 with no value) does not parse.
  grpc::Status malformed = call(std::string("\x08", 1));
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << malformed.error_code() << " " << malformed.error_message();
  EXPECT_EQ(malformed.error_message(), "malformed WaitForVersionRequest");
  // A well-formed request still works: version 1 is acked by every proxy (there are none).
  grpc::Status ok = call(std::string("\x08\x01", 2));
  EXPECT_TRUE(ok.ok()) << ok.error_code() << " " << ok.error_message();
}

TEST_F(ControlPlaneTest, StaleExpectedVersionIsAbortedAndBadOptionsRefused) {
  StartControl();
  const std::string json = Ctl({"config", "get", "--json"});
  uint64_t version = 0;
  ASSERT_TRUE(absl::SimpleAtoi(json.substr(11, json.find(',') - 11), &version)) << json;
  Ctl({"config", "set", "maxclients", "500", "--expected-version", absl::StrCat(version)});
  const std::string stale =
      Ctl({"config", "set", "maxclients", "600", "--expected-version", absl::StrCat(version)}, 2);
  EXPECT_TRUE(absl::StrContains(stale, "ABORTED")) << stale;
  EXPECT_EQ(Ctl({"config", "get", "maxclients"}), "500\n");
  const std::string per_process = Ctl({"config", "set", "port", "7000"}, 2);
  EXPECT_TRUE(
      absl::StrContains(per_process,
                        "INVALID_ARGUMENT: option 'port' is per proxy process and cannot be set "
                        "fleet-wide"))
      << per_process;
  const std::string bad = Ctl({"config", "set", "read-policy", "nearest"}, 2);
  EXPECT_TRUE(absl::StrContains(bad, "option 'read-policy'")) << bad;
  EXPECT_EQ(Ctl({"users", "rm", "nobody"}, 2).find("NOT_FOUND") != std::string::npos, true);
  EXPECT_EQ(control_->Ctl({"config", "frobnicate"})->ExitCode(), 1) << "usage error";
}

TEST_F(ControlPlaneTest, UsersReachProxiesAsHashesOnly) {
  StartControl();
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first, watch->Next(kSnapshotTimeout));
  Ctl({"users", "add", "bob", "--password", "one", "--password", "two"});
  ASSERT_OK_AND_ASSIGN(v1::Snapshot added, watch->Next(kSnapshotTimeout));
  ASSERT_EQ(added.config().policy().users_size(), 1);
  const v1::ClientUser& bob = added.config().policy().users(0);
  EXPECT_EQ(bob.name(), "bob");
  EXPECT_TRUE(bob.enabled());
  // Salted with the user's own salt; never the unsalted SHA-256 that Redis would store.
  EXPECT_EQ(bob.password_salt().size(), 32u);
  EXPECT_EQ(bob.password_sha256_size(), 0);
  EXPECT_EQ(std::set<std::string>(bob.password_salted_sha256().begin(),
                                  bob.password_salted_sha256().end()),
            (std::set<std::string>{SaltedPasswordDigest(bob.password_salt(), "one"),
                                   SaltedPasswordDigest(bob.password_salt(), "two")}));
  EXPECT_EQ(added.SerializeAsString().find("two"), std::string::npos);
  EXPECT_EQ(added.SerializeAsString().find(Sha256Hex("two")), std::string::npos);
  // set: disable, keep the passwords.
  Ctl({"users", "set", "bob", "--disable"});
  ASSERT_OK_AND_ASSIGN(v1::Snapshot disabled, watch->Next(kSnapshotTimeout));
  EXPECT_FALSE(disabled.config().policy().users(0).enabled());
  EXPECT_EQ(disabled.config().policy().users(0).password_salted_sha256_size(), 2);
  EXPECT_TRUE(absl::StrContains(Ctl({"users", "ls"}), "bob   no       no      2"));
  // Passwords from stdin replace the old ones.
  const std::string input = cluster().work_dir() + "/passwords";
  { std::ofstream(input) << "three\n"; }
  auto from_stdin = RunCommand({std::string(SLOTPLANE_BIN_DIR) + "/slotplanectl", "--addr",
                                control_->address(), "users", "set", "bob", "--password-stdin"},
                               cluster().work_dir(), absl::Seconds(30), input);
  ASSERT_OK(from_stdin);
  EXPECT_EQ(from_stdin->ExitCode(), 0) << from_stdin->output;
  ASSERT_OK_AND_ASSIGN(v1::Snapshot replaced, watch->Next(kSnapshotTimeout));
  const v1::ClientUser& three = replaced.config().policy().users(0);
  ASSERT_EQ(three.password_salted_sha256_size(), 1);
  EXPECT_EQ(three.password_salted_sha256(0), SaltedPasswordDigest(three.password_salt(), "three"));
  Ctl({"users", "rm", "bob"});
  ASSERT_OK_AND_ASSIGN(v1::Snapshot removed, watch->Next(kSnapshotTimeout));
  EXPECT_EQ(removed.config().policy().users_size(), 0);
  EXPECT_TRUE(absl::StrContains(Ctl({"users", "add", "carol"}, 1), "--nopass"));
}

TEST_F(ControlPlaneTest, MovedReportRefreshesAtOnce) {
  ControlOptions options;
  options.poll_interval_ms = 600000;  // only the report can cause a refresh during the test
  StartControl(options);
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first, watch->Next(kSnapshotTimeout));
  auto refreshed = [&]() -> std::string {
    const std::string json = Ctl({"topology", "--json"});
    const size_t at = json.find("\"refreshed_unix_ms\":");
    return at == std::string::npos ? "" : json.substr(at, json.find(',', at) - at);
  };
  const std::string before = refreshed();
  ASSERT_FALSE(before.empty());
  absl::SleepFor(absl::Milliseconds(20));  // a later refresh has a later timestamp
  ASSERT_OK(watch->ReportMoved(0, cluster().address(0).ToString()));
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const std::string now = refreshed();
        return now != before ? absl::OkStatus() : absl::NotFoundError(now);
      },
      absl::Seconds(5)));
  EXPECT_EQ(watch->Queued(), 0u) << "the cluster did not change: no new version";
}

TEST_F(ControlPlaneTest, MetricsAndHealth) {
  ASSERT_OK_AND_ASSIGN(const uint16_t metrics_port, PickFreePort(false));
  ControlOptions options;
  options.extra_args = {"--metrics-port", absl::StrCat(metrics_port)};
  StartControl(options);
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, watch->Next(kSnapshotTimeout));
  ASSERT_OK(watch->Ack(snapshot));
  Ctl({"config", "set", "port", "1"}, 2);
  auto get = [&](const std::string& path) -> std::string {
    auto conn = RawConnection::Connect(metrics_port);
    if (!conn.ok()) return "";
    if (!conn->Send("GET " + path + " HTTP/1.0\r\n\r\n").ok()) return "";
    auto reply = conn->ReadUntilClosed(absl::Seconds(5));
    return reply.ok() ? reply->data : "";
  };
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const std::string m = get("/metrics");
        return absl::StrContains(m, "slotplane_control_acks_total 1") ? absl::OkStatus()
                                                                      : absl::NotFoundError(m);
      },
      absl::Seconds(10)));
  const std::string metrics = get("/metrics");
  for (const char* line :
       {"slotplane_control_streams_connected 1", "slotplane_control_proxies_connected 1",
        "slotplane_control_snapshots_sent_total 1", "slotplane_control_topology_changes_total 1",
        "slotplane_control_admin_calls_total{code=\"INVALID_ARGUMENT\",method=\"UpdatePolicy\"} 1",
        "slotplane_control_version "}) {
    EXPECT_TRUE(absl::StrContains(metrics, line)) << line << "\n" << metrics;
  }
  EXPECT_TRUE(absl::StrContains(metrics, "slotplane_control_up 1")) << metrics;
  EXPECT_TRUE(absl::StrContains(get("/healthz"), "200 OK")) << get("/healthz");
  // The fixture's cluster covers every slot: the control plane is ready.
  EXPECT_TRUE(absl::StrContains(get("/readyz"), "200 OK")) << get("/readyz");
}

// The fleet as the control plane measures it: the acked version of each connected proxy (a
// series per proxy, gone with its stream), the time to fleet convergence, NACKs by reason, and
// `slotplanectl status` saying why the fleet has not converged.
TEST_F(ControlPlaneTest, FleetMetricsAndWhyNotConverged) {
  ASSERT_OK_AND_ASSIGN(const uint16_t metrics_port, PickFreePort(false));
  ControlOptions options;
  options.extra_args = {"--metrics-port", absl::StrCat(metrics_port)};
  StartControl(options);
  auto metrics = [&]() -> std::string {
    auto conn = RawConnection::Connect(metrics_port);
    if (!conn.ok() || !conn->Send("GET /metrics HTTP/1.0\r\n\r\n").ok()) return "";
    auto reply = conn->ReadUntilClosed(absl::Seconds(5));
    return reply.ok() ? reply->data : "";
  };
  auto wait_for_line = [&](const std::string& line) {
    return WaitForOk(
        [&]() -> absl::Status {
          const std::string m = metrics();
          return absl::StrContains(m, line) ? absl::OkStatus()
                                            : absl::NotFoundError(line + " not in\n" + m);
        },
        absl::Seconds(20));
  };
  ASSERT_OK_AND_ASSIGN(auto a, Watch("proxy-a"));
  ASSERT_OK_AND_ASSIGN(auto b, Watch("proxy-b"));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first_a, a->Next(kSnapshotTimeout));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot first_b, b->Next(kSnapshotTimeout));
  ASSERT_OK(a->Ack(first_a));
  ASSERT_OK(b->Ack(first_b));
  ASSERT_OK(wait_for_line(absl::StrCat("slotplane_control_proxy_acked_version{proxy=\"proxy-a\"} ",
                                       first_a.version())));
  ASSERT_OK(wait_for_line(absl::StrCat("slotplane_control_proxy_acked_version{proxy=\"proxy-b\"} ",
                                       first_b.version())));
  // The first version may have been published before the proxies connected (not measured) or
  // after (measured once both acked): count from here.
  auto converged = [&]() -> std::string {
    const std::string m = metrics();
    const size_t at = m.find("slotplane_control_fleet_convergence_seconds_count ");
    if (at == std::string::npos) return "missing";
    return m.substr(at, m.find('\n', at) - at);
  };
  const std::string count_before = converged();
  ASSERT_NE(count_before, "missing");
  const std::string count_after =
      absl::StrCat("slotplane_control_fleet_convergence_seconds_count ",
                   std::stoi(count_before.substr(count_before.rfind(' ') + 1)) + 1);

  // A new version: a acks at once, b later. It converges when b acks, and is measured once.
  Ctl({"config", "set", "tryagain-retries", "7"});
  ASSERT_OK_AND_ASSIGN(v1::Snapshot second_a, a->Next(kSnapshotTimeout));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot second_b, b->Next(kSnapshotTimeout));
  ASSERT_OK(a->Ack(second_a));
  ASSERT_OK(wait_for_line(absl::StrCat("slotplane_control_proxy_acked_version{proxy=\"proxy-a\"} ",
                                       second_a.version())));
  const std::string status = Ctl({"status"});
  EXPECT_TRUE(std::regex_search(status, std::regex("converged +no"))) << status;
  EXPECT_TRUE(absl::StrContains(status, absl::StrCat("proxy-b on version ", first_b.version(),
                                                     " (has not acked ", second_b.version())))
      << status;
  EXPECT_EQ(converged(), count_before) << "proxy-b has not acked";
  ASSERT_OK(b->Ack(second_b));
  ASSERT_OK(wait_for_line(count_after));
  EXPECT_TRUE(std::regex_search(Ctl({"status"}), std::regex("converged +yes")));

  // NACKs are counted by the reason their error text gives; every reason has a series.
  Ctl({"config", "set", "tryagain-retries", "8"});
  ASSERT_OK_AND_ASSIGN(v1::Snapshot third_a, a->Next(kSnapshotTimeout));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot third_b, b->Next(kSnapshotTimeout));
  ASSERT_OK(a->Nack(third_a, "policy: maxclients 10000 is more than this proxy allows"));
  ASSERT_OK(b->Nack(third_b, "no such thing"));
  ASSERT_OK(wait_for_line("slotplane_control_nacks_total{reason=\"policy\"} 1"));
  ASSERT_OK(wait_for_line("slotplane_control_nacks_total{reason=\"other\"} 1"));
  const std::string m = metrics();
  EXPECT_TRUE(absl::StrContains(m, "slotplane_control_nacks_total{reason=\"topology\"} 0")) << m;
  EXPECT_TRUE(absl::StrContains(m, "slotplane_control_nacks_total{reason=\"too_large\"} 0")) << m;

  // b leaves: its series goes; a still holds version 3 back, so nothing converges.
  b.reset();
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const std::string now = metrics();
        return absl::StrContains(now, "proxy=\"proxy-b\"") ? absl::NotFoundError(now)
                                                           : absl::OkStatus();
      },
      absl::Seconds(20)));
  EXPECT_TRUE(absl::StrContains(metrics(), "proxy=\"proxy-a\""));
  EXPECT_EQ(converged(), count_after) << "proxy-a has not acked the third version";
}

TEST_F(ControlPlaneTest, ShutdownEndsStreamsWithUnavailable) {
  StartControl();
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK(watch->Next(kSnapshotTimeout));
  ASSERT_OK(control_->Stop());  // exit code 0 within the stop timeout
  ASSERT_OK_AND_ASSIGN(grpc::Status end, watch->WaitForEnd(absl::Seconds(10)));
  EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE) << end.error_message();
}

TEST_F(ControlPlaneTest, ProxyClosingItsSideEndsTheStreamCleanly) {
  StartControl();
  ASSERT_OK_AND_ASSIGN(auto watch, Watch());
  ASSERT_OK(watch->Next(kSnapshotTimeout));
  watch->CloseSend();
  ASSERT_OK_AND_ASSIGN(grpc::Status end, watch->WaitForEnd(absl::Seconds(10)));
  EXPECT_TRUE(end.ok()) << end.error_message();
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const std::string out = Ctl({"proxies", "--json"});
        return absl::StrContains(out, "\"proxies\":[]") ? absl::OkStatus()
                                                        : absl::NotFoundError(out);
      },
      absl::Seconds(10)));
}

}  // namespace
}  // namespace slotplane::integration
