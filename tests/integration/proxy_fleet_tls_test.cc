// slotplane-proxy to slotplane-control over TLS with client certificates (mTLS): a proxy with the
// CA and its certificate subscribes and changes the policy; one without a certificate is refused
// by the control plane and serves from the cluster on its own.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

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
  options.cluster.replicas_per_master = 0;
  return SharedClusterEnvironment::Register(options);
}();

class ProxyFleetTlsTest : public SharedClusterTest {};

TEST_F(ProxyFleetTlsTest, ProxiesNeedTheirCertificate) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-fleet-tls"));
  ASSERT_OK(MakeTestCertificates(dir.path()));
  ControlOptions control_options;
  control_options.cluster = cluster().addresses();
  control_options.admin_token = "tls-token";
  control_options.extra_args = {"--tls-cert",           dir.File("server.pem"), "--tls-key",
                                dir.File("server.key"), "--tls-client-ca",      dir.File("ca.pem")};
  control_options.ctl_args = {"--tls-ca", dir.File("ca.pem")};
  ASSERT_OK_AND_ASSIGN(auto control, ControlProcess::Start(control_options));

  ProxyOptions options = FleetProxyOptions(*control, "mtls", "", cluster().addresses());
  options.extra_args.insert(
      options.extra_args.end(),
      {"--control-plane-tls-ca", dir.File("ca.pem"), "--control-plane-tls-cert",
       dir.File("client.pem"), "--control-plane-tls-key", dir.File("client.key")});
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(options));
  ASSERT_OK(WaitForFleet(*control, {proxy.get()}));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy->Connect());
  EXPECT_EQ(client->Command({"PROXY", "CONFIG", "SET", "enable-cross-slot", "yes"}),
            Reply::Status("OK"))
      << "the admin call goes over TLS too";
  EXPECT_EQ(client->Command({"SET", "tls:k", "v"}), Reply::Status("OK"));

  ProxyOptions no_cert = FleetProxyOptions(*control, "no-cert", "", cluster().addresses());
  no_cert.extra_args.insert(no_cert.extra_args.end(),
                            {"--control-plane-tls-ca", dir.File("ca.pem")});
  ASSERT_OK_AND_ASSIGN(auto refused, ProxyProcess::Start(no_cert));
  ASSERT_OK_AND_ASSIGN(auto info, FleetInfo(*refused));
  EXPECT_NE(info["stream_state"], "connected");
  EXPECT_EQ(info["topology_source"], "cluster") << "found the cluster on its own";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> other, refused->Connect());
  EXPECT_EQ(other->Command({"GET", "tls:k"}), Reply::String("v"));
  ASSERT_OK_AND_ASSIGN(FleetListing listing, ListFleet(*control));
  EXPECT_EQ(listing.proxies.size(), 1u) << "only the proxy with a certificate";
}

}  // namespace
}  // namespace slotplane::integration
