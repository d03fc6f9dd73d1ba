#include "dataplane/control/control_endpoints.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace slotplane::dataplane {
namespace {

bool IsIpLiteral(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// A target reached through two names is tried once, with the first name.
void AddUnique(ControlEndpoint endpoint, std::vector<ControlEndpoint>* out) {
  auto same = [&](const ControlEndpoint& e) { return e.target == endpoint.target; };
  if (std::find_if(out->begin(), out->end(), same) == out->end()) {
    out->push_back(std::move(endpoint));
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(result, &freeaddrinfo);
  std::vector<std::string> ips;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    if (ai->ai_family == AF_INET) {
      address = &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      address = &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (inet_ntop(ai->ai_family, address, text, sizeof(text)) == nullptr) continue;
    if (std::find(ips.begin(), ips.end(), text) == ips.end()) ips.emplace_back(text);
  }
  return ips;
}

std::vector<ControlEndpoint> ExpandControlEndpoints(const std::vector<NodeAddress>& addresses,
                                                    const HostResolver& resolve) {
  std::vector<ControlEndpoint> out;
  for (const NodeAddress& address : addresses) {
    absl::StatusOr<std::vector<std::string>> ips;
    if (!IsIpLiteral(address.host)) ips = resolve(address.host);
    if (!ips.ok() || ips->size() < 2) {
      AddUnique({address.ToString(), ""}, &out);
      continue;
    }
    for (const std::string& ip : *ips) {
      AddUnique({NodeAddress{ip, address.port}.ToString(), address.host}, &out);
    }
  }
  return out;
}

}  // namespace slotplane::dataplane
