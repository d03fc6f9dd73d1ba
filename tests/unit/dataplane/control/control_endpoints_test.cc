#include "dataplane/control/control_endpoints.h"

#include <map>
#include <string>
#include <vector>

#include "dataplane/core/proxy_config.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

std::vector<NodeAddress> Parse(const std::string& text) {
  absl::StatusOr<std::vector<NodeAddress>> addresses = ControlPlaneAddresses(text);
  EXPECT_TRUE(addresses.ok()) << addresses.status();
  return addresses.ok() ? *addresses : std::vector<NodeAddress>{};
}

// A resolver answering from a table; a name not in it does not resolve. Counts its calls.
struct FakeDns {
  std::map<std::string, std::vector<std::string>> records;
  int calls = 0;
  HostResolver resolver() {
    return [this](const std::string& host) -> absl::StatusOr<std::vector<std::string>> {
      ++calls;
      auto it = records.find(host);
      if (it == records.end()) return absl::UnavailableError("no such host");
      return it->second;
    };
  }
};

std::vector<std::string> Targets(const std::vector<ControlEndpoint>& endpoints) {
  std::vector<std::string> out;
  for (const ControlEndpoint& e : endpoints) out.push_back(e.target);
  return out;
}

TEST(ControlPlaneAddressesTest, OneAddressAsToday) {
  std::vector<NodeAddress> addresses = Parse("127.0.0.1:7700");
  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(addresses[0].ToString(), "127.0.0.1:7700");
}

TEST(ControlPlaneAddressesTest, ListInOrderWithoutDuplicates) {
  std::vector<NodeAddress> addresses = Parse("a:1,[::1]:2,b:3,a:1");
  ASSERT_EQ(addresses.size(), 3u);
  EXPECT_EQ(addresses[0].ToString(), "a:1");
  EXPECT_EQ(addresses[1].ToString(), "[::1]:2");
  EXPECT_EQ(addresses[2].ToString(), "b:3");
}

TEST(ControlPlaneAddressesTest, BadEntriesNameTheOption) {
  for (const char* bad : {",", "a:1,b", "a:1,b:0", "a:1,:5", "nohostport"}) {
    absl::StatusOr<std::vector<NodeAddress>> addresses = ControlPlaneAddresses(bad);
    ASSERT_FALSE(addresses.ok()) << bad;
    EXPECT_NE(addresses.status().message().find("'control-plane'"), std::string::npos)
        << addresses.status();
  }
}

TEST(ControlPlaneAddressesTest, TheOptionAcceptsAListAndKeepsItAsWritten) {
  ProxyOptions options;
  ASSERT_TRUE(ApplyOption(&options, "control-plane", {"10.0.0.1:7700,10.0.0.2:7700"}).ok());
  EXPECT_EQ(options.control_plane, "10.0.0.1:7700,10.0.0.2:7700");
  EXPECT_EQ(*GetOption(options, "control-plane"), "10.0.0.1:7700,10.0.0.2:7700");
  ASSERT_TRUE(ApplyOption(&options, "control-plane", {""}).ok()) << "standalone";
  EXPECT_FALSE(ApplyOption(&options, "control-plane", {"10.0.0.1:7700,x"}).ok());
}

TEST(ExpandControlEndpointsTest, IpLiteralsAreNotResolved) {
  FakeDns dns;
  std::vector<ControlEndpoint> endpoints =
      ExpandControlEndpoints(Parse("127.0.0.1:1,[::1]:2"), dns.resolver());
  EXPECT_EQ(Targets(endpoints), (std::vector<std::string>{"127.0.0.1:1", "[::1]:2"}));
  EXPECT_EQ(dns.calls, 0);
  EXPECT_EQ(endpoints[0].tls_name, "");
}

TEST(ExpandControlEndpointsTest, ANameWithSeveralRecordsGivesOneCandidateEach) {
  FakeDns dns;
  dns.records["control.example"] = {"10.0.0.1", "10.0.0.2", "fd00::3"};
  std::vector<ControlEndpoint> endpoints =
      ExpandControlEndpoints(Parse("control.example:7700"), dns.resolver());
  EXPECT_EQ(Targets(endpoints),
            (std::vector<std::string>{"10.0.0.1:7700", "10.0.0.2:7700", "[fd00::3]:7700"}));
  for (const ControlEndpoint& e : endpoints) EXPECT_EQ(e.tls_name, "control.example");
  // Resolved again at every call: a replica that appears is a candidate at the next reconnect.
  dns.records["control.example"].push_back("10.0.0.4");
  endpoints = ExpandControlEndpoints(Parse("control.example:7700"), dns.resolver());
  EXPECT_EQ(endpoints.size(), 4u);
  EXPECT_EQ(dns.calls, 2);
}

TEST(ExpandControlEndpointsTest, ANameWithOneRecordOrNoneStaysTheName) {
  FakeDns dns;
  dns.records["one.example"] = {"10.0.0.1"};
  std::vector<ControlEndpoint> endpoints =
      ExpandControlEndpoints(Parse("one.example:7700,gone.example:7700"), dns.resolver());
  EXPECT_EQ(Targets(endpoints),
            (std::vector<std::string>{"one.example:7700", "gone.example:7700"}));
  EXPECT_EQ(endpoints[0].tls_name, "");
}

TEST(ExpandControlEndpointsTest, RecordsSharedByTwoEntriesAppearOnce) {
  FakeDns dns;
  dns.records["a.example"] = {"10.0.0.1", "10.0.0.2"};
  dns.records["b.example"] = {"10.0.0.2", "10.0.0.1"};
  std::vector<ControlEndpoint> endpoints =
      ExpandControlEndpoints(Parse("a.example:1,b.example:1,10.0.0.9:1"), dns.resolver());
  EXPECT_EQ(Targets(endpoints),
            (std::vector<std::string>{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.9:1"}));
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(endpoints[i].tls_name, "a.example");
}

TEST(ResolveHostTest, LocalhostResolves) {
  absl::StatusOr<std::vector<std::string>> ips = ResolveHost("localhost");
  ASSERT_TRUE(ips.ok()) << ips.status();
  EXPECT_FALSE(ips->empty());
  EXPECT_FALSE(ResolveHost("no-such-host.invalid").ok());
}

}  // namespace
}  // namespace slotplane::dataplane
