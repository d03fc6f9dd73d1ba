#include "dataplane/router/redirect.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/strings.h"

namespace slotplane::dataplane {
namespace {

// "<slot> <host>:<port>" after "MOVED " or "ASK ".
bool ParseTarget(std::string_view rest, Redirect* out) {
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  size_t space = rest.find(' ');
  if (space == std::string_view::npos) return false;
  uint32_t slot;
  if (!absl::SimpleAtoi(AbslView(rest.substr(0, space)), &slot) || slot >= kSlotCount) return false;
  std::string_view endpoint = rest.substr(space + 1);
  size_t colon = endpoint.rfind(':');
  uint32_t port;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(AbslView(endpoint.substr(colon + 1)), &port) || port == 0 || port > 65535) {
    return false;
  }
  std::string_view host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "?") host = {};
  out->slot = static_cast<uint16_t>(slot);
  out->address.host.assign(host.data(), host.size());
  out->address.port = static_cast<uint16_t>(port);
  return true;
}

}  // namespace

Redirect ParseRedirect(std::string_view frame) {
  Redirect r;
  if (frame.size() < 4 || frame[0] != '-') return r;
  std::string_view text = frame.substr(1);
  if (absl::StartsWith(AbslView(text), "MOVED ")) {
    if (ParseTarget(text.substr(6), &r)) r.kind = RedirectKind::kMoved;
  } else if (absl::StartsWith(AbslView(text), "ASK ")) {
    if (ParseTarget(text.substr(4), &r)) r.kind = RedirectKind::kAsk;
  } else if (absl::StartsWith(AbslView(text), "TRYAGAIN")) {
    r.kind = RedirectKind::kTryAgain;
  }
  return r;
}

}  // namespace slotplane::dataplane
