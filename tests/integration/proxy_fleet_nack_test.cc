// A snapshot one proxy cannot apply: the control plane accepts `maxclients M` (valid fleet-wide),
// but one proxy runs with an open-files limit too low for M clients, so it NACKs that version and
// every later one while M stays, keeps serving on its last good version, and says why in
// `slotplanectl proxies` and PROXY INFO. A PROXY CONFIG SET made on that proxy meanwhile fails
// with the reason. Once the fleet's maxclients fits again, it converges.
//
// The open-files limit of the second proxy comes from this test process: its own limit is
// lowered (hard and soft, so the proxy cannot raise it back) just before that proxy starts,
// which is why this test has a binary of its own.

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/control_process.h"
#include "tests/integration/fleet.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = [] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return SharedClusterEnvironment::Register(options);
}();

// What slotplane-proxy keeps aside from its open-files limit (see MaxClientsForOpenFiles): 32 plus
// 16 per worker thread (the fixture runs 2).
constexpr int64_t kReservedFds = 32 + 16 * 2;
// Enough for the default maxclients (10000) and a little more.
constexpr int64_t kLowLimit = 10000 + kReservedFds + 50;

class ProxyFleetNackTest : public SharedClusterTest {};

TEST_F(ProxyFleetNackTest, ARejectedVersionLeavesTheProxyOnItsLastGoodOne) {
  struct rlimit limit;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  const int64_t hard = limit.rlim_max == RLIM_INFINITY ? 1 << 20 : limit.rlim_max;
  if (hard < kLowLimit + 1000) {
    GTEST_SKIP() << "the open-files hard limit (" << hard << ") leaves no room for the test";
  }
  // Fits the first proxy (which raises its soft limit to `hard`), not the second.
  const int64_t too_many = std::min<int64_t>(1000000, (kLowLimit + hard) / 2);

  ControlOptions control_options;
  control_options.cluster = cluster().addresses();
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(control_options));
  ASSERT_OK_AND_ASSIGN(auto roomy, ProxyProcess::Start(FleetProxyOptions(*control, "roomy", "",
                                                                         cluster().addresses())));
  limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(kLowLimit);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_OK_AND_ASSIGN(auto tight, ProxyProcess::Start(FleetProxyOptions(*control, "tight", "",
                                                                         cluster().addresses())));
  ASSERT_OK(WaitForFleet(*control, {roomy.get(), tight.get()}));
  ASSERT_OK_AND_ASSIGN(FleetListing before, ListFleet(*control));
  const uint64_t good = before.current_version;

  ASSERT_OK_AND_ASSIGN(CommandResult set,
                       control->Ctl({"config", "set", "maxclients", absl::StrCat(too_many)}));
  ASSERT_TRUE(set.Succeeded()) << set.output;
  EXPECT_OK(WaitForOption(*roomy, "maxclients", absl::StrCat(too_many)));
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<FleetListing> listing = ListFleet(*control);
        if (!listing.ok()) return listing.status();
        const FleetEntry& entry = listing->proxies[ListenAddress(*tight)];
        if (entry.last_nack_version == listing->current_version) return absl::OkStatus();
        return absl::UnavailableError(absl::StrCat("tight: last nack ", entry.last_nack_version));
      },
      absl::Seconds(20)));
  ASSERT_OK_AND_ASSIGN(FleetListing listing, ListFleet(*control));
  const uint64_t rejected = listing.current_version;
  EXPECT_GT(rejected, good);
  EXPECT_EQ(listing.proxies[ListenAddress(*tight)].acked_version, good);
  EXPECT_TRUE(
      absl::StrContains(listing.proxies[ListenAddress(*tight)].last_nack_error, "open-files limit"))
      << listing.proxies[ListenAddress(*tight)].last_nack_error;
  EXPECT_EQ(listing.proxies[ListenAddress(*roomy)].acked_version, rejected);
  EXPECT_EQ(listing.proxies[ListenAddress(*roomy)].last_nack_version, 0u);

  ASSERT_OK_AND_ASSIGN(auto info, FleetInfo(*tight));
  EXPECT_EQ(info["acked_version"], absl::StrCat(good));
  EXPECT_EQ(info["policy_version"], absl::StrCat(good)) << "still on the last good version";
  EXPECT_EQ(info["last_nack_version"], absl::StrCat(rejected));
  EXPECT_EQ(info["snapshots_nacked"], "1");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, tight->Connect());
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "maxclients"}),
            Reply::Array({Reply::String("maxclients"), Reply::String("10000")}));
  EXPECT_EQ(client->Command({"SET", "nack:k", "v"}), Reply::Status("OK")) << "still serving";

  // A change made on the proxy that cannot take the fleet's maxclients: accepted fleet-wide, but
  // rejected here, and the client is told.
  const Reply reply = client->Command({"PROXY", "CONFIG", "SET", "enable-cross-slot", "yes"});
  EXPECT_TRUE(absl::StrContains(reply.str, "this proxy rejected that version")) << reply;
  EXPECT_OK(WaitForOption(*roomy, "enable-cross-slot", "yes"));
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "GET", "enable-cross-slot"}),
            Reply::Array({Reply::String("enable-cross-slot"), Reply::String("no")}));

  // The fleet's maxclients fits again: the tight proxy converges on the newest version.
  ASSERT_OK_AND_ASSIGN(CommandResult fix, control->Ctl({"config", "set", "maxclients", "5000"}));
  ASSERT_TRUE(fix.Succeeded()) << fix.output;
  ASSERT_OK(WaitForFleet(*control, {roomy.get(), tight.get()}));
  EXPECT_OK(WaitForOption(*tight, "maxclients", "5000"));
  EXPECT_OK(WaitForOption(*tight, "enable-cross-slot", "yes"));
}

}  // namespace
}  // namespace slotplane::integration
