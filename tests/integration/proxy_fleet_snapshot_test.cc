// A large fleet policy end to end: 2,100 users with 32 passwords each make a snapshot of about
// 4.5 MB, past gRPC's default 4 MiB message limit that used to stop every proxy ("Received
// message larger than max"). The users are written into the store as an older control plane kept
// them (unsalted SHA-256), so the test also shows the store being salted at start. A real proxy
// receives the snapshot and authenticates with the salted digests; a stream that says it takes
// only 4 MiB (a proxy built before the limit was raised) is not sent the snapshot and its NACK
// shows in `slotplanectl proxies` and `status`; the user cap answers RESOURCE_EXHAUSTED.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "controlplane/store/file_store.h"
#include "tests/integration/control_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/watch_client.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = [] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return SharedClusterEnvironment::Register(options);
}();
const auto* const kGrpc = ::testing::AddGlobalTestEnvironment(new GrpcEnvironment);

constexpr int kUsersWithPasswords = 2100;
constexpr int kPasswordsPerUser = 32;
constexpr int kUsers = 10000;  // the cap (controlplane/policy/users.h)

std::string Password(int user, int index) { return absl::StrCat("pw-", user, "-", index); }

// Adds the users to the stopped control plane's store as a control plane before salting kept
// them: unsalted SHA-256 digests.
absl::Status WriteLegacyUsers(const ControlProcess& control) {
  auto store = control::FileStore::Open(control.data_dir());
  if (!store.ok()) return store.status();
  auto stored = (*store)->Load();
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || !(*stored)->has_topology()) {
    return absl::FailedPreconditionError("the store has no topology yet");
  }
  v1::ProxyConfig config = **stored;
  for (int i = 0; i < kUsers; ++i) {
    v1::ClientUser* user = config.mutable_policy()->add_users();
    user->set_name(absl::StrCat("user-", i));
    user->set_enabled(true);
    // The last is the default user without a password: clients (and the fixture's PROXY INFO)
    // need no AUTH, and AUTH with a user still checks that user's password.
    if (i == kUsers - 1) {
      user->set_name("default");
      user->set_nopass(true);
    }
    for (int j = 0; i < kUsersWithPasswords && j < kPasswordsPerUser; ++j) {
      user->add_password_sha256(Sha256Hex(Password(i, j)));
    }
  }
  const uint64_t previous = config.version();
  config.set_version(previous + 1);
  return (*store)->Save(config, previous);
}

class ProxyFleetSnapshotTest : public SharedClusterTest {};

TEST_F(ProxyFleetSnapshotTest, ALargeSnapshotReachesTheProxyOrIsNackedVisibly) {
  ControlOptions control_options;
  control_options.cluster = cluster().addresses();
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(control_options));
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        auto listing = ListFleet(*control);
        if (!listing.ok()) return listing.status();
        return listing->current_version > 0 ? absl::OkStatus()
                                            : absl::UnavailableError("no topology yet");
      },
      absl::Seconds(20)));
  ASSERT_OK(control->Stop());
  ASSERT_OK(WriteLegacyUsers(*control));
  ASSERT_OK(control->Restart());
  EXPECT_TRUE(
      absl::StrContains(control->LogText(), "salted the password digests of 2100 stored users"))
      << control->LogText();

  // A real proxy takes the whole snapshot and authenticates against the salted digests.
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(FleetProxyOptions(*control, "big", "",
                                                                         cluster().addresses())));
  ASSERT_OK(WaitForFleet(*control, {proxy.get()}, absl::Seconds(60)));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  EXPECT_EQ(client->Command({"AUTH", "user-2099", Password(2099, 31)}), Reply::Status("OK"));
  EXPECT_EQ(client->Command({"AUTH", "user-0", Password(0, 0)}), Reply::Status("OK"));
  const Reply wrong = client->Command({"AUTH", "user-0", Password(1, 0)});
  EXPECT_TRUE(absl::StartsWith(wrong.str, "WRONGPASS")) << wrong;
  ASSERT_OK_AND_ASSIGN(CommandResult converged, control->Ctl({"--json", "status"}));
  EXPECT_TRUE(absl::StrContains(converged.output, "\"converged\":true")) << converged.output;

  // What travels: salted digests only.
  WatchClientOptions watch_options;
  watch_options.address = control->address();
  watch_options.token = control->proxy_token();
  watch_options.proxy_id = "inspector";
  ASSERT_OK_AND_ASSIGN(auto inspector, WatchClient::Open(watch_options));
  ASSERT_OK_AND_ASSIGN(v1::Snapshot snapshot, inspector->Next(absl::Seconds(20)));
  ASSERT_EQ(snapshot.config().policy().users_size(), kUsers);
  const v1::ClientUser& first = snapshot.config().policy().users(0);
  EXPECT_EQ(first.password_sha256_size(), 0);
  EXPECT_EQ(first.password_salted_sha256_size(), kPasswordsPerUser);
  EXPECT_EQ(first.password_salt().size(), 32u);
  EXPECT_GT(snapshot.ByteSizeLong(), kDefaultGrpcReceiveBytes);
  ASSERT_OK(inspector->Ack(snapshot));

  // A stream that takes only gRPC's default 4 MiB gets no snapshot but a recorded NACK.
  watch_options.proxy_id = "old-proxy";
  watch_options.listen_address = "127.0.0.1:2";
  watch_options.max_message_bytes = 0;
  ASSERT_OK_AND_ASSIGN(auto old_proxy, WatchClient::Open(watch_options));
  FleetEntry old_entry;
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        auto listing = ListFleet(*control);
        if (!listing.ok()) return listing.status();
        auto it = listing->proxies.find("127.0.0.1:2");
        if (it == listing->proxies.end() || it->second.last_nack_version == 0) {
          return absl::NotFoundError("no NACK recorded yet");
        }
        old_entry = it->second;
        return absl::OkStatus();
      },
      absl::Seconds(20)));
  EXPECT_EQ(old_entry.acked_version, 0u);
  EXPECT_TRUE(absl::StrContains(old_entry.last_nack_error,
                                "bytes is larger than this proxy receives (4194304 bytes)"))
      << old_entry.last_nack_error;
  EXPECT_EQ(old_proxy->Queued(), 0u) << "nothing it cannot receive was sent";
  ASSERT_OK_AND_ASSIGN(CommandResult status, control->Ctl({"status"}));
  EXPECT_TRUE(std::regex_search(status.output, std::regex("converged +no"))) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "old-proxy rejected version")) << status.output;
  EXPECT_TRUE(absl::StrContains(status.output, "larger than this proxy receives")) << status.output;
  ASSERT_OK_AND_ASSIGN(CommandResult json, control->Ctl({"--json", "status"}));
  EXPECT_TRUE(absl::StrContains(json.output, "\"converged\":false")) << json.output;
  EXPECT_TRUE(absl::StrContains(json.output, "\"proxy_id\":\"old-proxy\"")) << json.output;

  // The fleet is at the user cap: one more is refused with a clear admin error.
  ASSERT_OK_AND_ASSIGN(CommandResult full,
                       control->Ctl({"users", "add", "one-more", "--password", "x"}));
  EXPECT_TRUE(WIFEXITED(full.wait_status) && WEXITSTATUS(full.wait_status) == 2) << full.output;
  EXPECT_TRUE(absl::StrContains(full.output, "RESOURCE_EXHAUSTED")) << full.output;
  EXPECT_TRUE(absl::StrContains(full.output, "the most it may have (10000)")) << full.output;
}

}  // namespace
}  // namespace slotplane::integration
