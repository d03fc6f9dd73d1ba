#pragma once

// Helpers for tests of a fleet: proxies on a slotplane-control (see control_process.h).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/integration/control_process.h"
#include "tests/integration/proxy_process.h"

namespace slotplane::integration {

// One proxy as `slotplanectl --json proxies` reports it.
struct FleetEntry {
  std::string id;
  uint64_t acked_version = 0;
  uint64_t last_nack_version = 0;
  std::string last_nack_error;
};

struct FleetListing {
  uint64_t current_version = 0;
  std::map<std::string, FleetEntry> proxies;  // by listen address ("127.0.0.1:port")
};

// `slotplanectl --json proxies`, parsed.
absl::StatusOr<FleetListing> ListFleet(const ControlProcess& control);

// "127.0.0.1:port" of a proxy, as it tells the control plane.
std::string ListenAddress(const ProxyProcess& proxy);

// Options for a proxy of the fleet: --control-plane, its admin and proxy token files, --proxy-id
// `id`, and, when
// `cache_file` is not empty, --control-plane-cache.
ProxyOptions FleetProxyOptions(const ControlProcess& control, const std::string& id,
                               const std::string& cache_file, std::vector<NodeAddress> seeds);

// The fleet section of the proxy's PROXY INFO.
absl::StatusOr<std::map<std::string, std::string>> FleetInfo(const ProxyProcess& proxy,
                                                             const ClientOptions& options = {});

// Polls until the control plane lists exactly `proxies`, each acked the current version, and
// each says its stream is connected.
absl::Status WaitForFleet(const ControlProcess& control, const std::vector<ProxyProcess*>& proxies,
                          absl::Duration timeout = absl::Seconds(20));

// Polls until PROXY CONFIG GET `name` on `proxy` answers `value`.
absl::Status WaitForOption(const ProxyProcess& proxy, const std::string& name,
                           const std::string& value, absl::Duration timeout = absl::Seconds(20));

// A test CA (ca.pem, ca.key), a server certificate for localhost and 127.0.0.1 (server.pem,
// server.key) and a client certificate (client.pem, client.key) in `dir`, made with the openssl
// command-line tool.
absl::Status MakeTestCertificates(const std::string& dir);

}  // namespace slotplane::integration
