#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cluster_view.h"

namespace slotplane::dataplane {

// One control-plane replica the proxy may open its stream to.
struct ControlEndpoint {
  std::string target;  // gRPC target: "host:port" as written, or "ip:port" of one DNS record
  // With TLS, the name the replica's certificate must carry when `target` is a resolved IP
  // (the host name it came from); empty when `target` is the name itself.
  std::string tls_name;

  bool operator==(const ControlEndpoint& other) const {
    return target == other.target && tls_name == other.tls_name;
  }
};

// The IP addresses `host` resolves to (literals, in the resolver's order, without duplicates).
using HostResolver = std::function<absl::StatusOr<std::vector<std::string>>(const std::string&)>;

// getaddrinfo (TCP), both families: blocks for the system resolver's time. Call only off the
// workers' threads.
absl::StatusOr<std::vector<std::string>> ResolveHost(const std::string& host);

// The candidates for `addresses` (the `control-plane` option, ControlPlaneAddresses): an IP
// literal as it is; a host name with several DNS records one candidate per record (a headless
// Service's replicas); a name with one record, or one that does not resolve now, stays the name
// (gRPC resolves it, as with a single address, and reports what fails). In the option's order,
// each target once (with the first name that gave it). Never empty for a non-empty `addresses`.
std::vector<ControlEndpoint> ExpandControlEndpoints(const std::vector<NodeAddress>& addresses,
                                                    const HostResolver& resolve);

}  // namespace slotplane::dataplane
