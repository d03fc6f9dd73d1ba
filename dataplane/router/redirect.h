#pragma once

#include <cstdint>
#include <string_view>

#include "common/cluster_view.h"

namespace slotplane::dataplane {

enum class RedirectKind { kNone, kMoved, kAsk, kTryAgain };

struct Redirect {
  RedirectKind kind = RedirectKind::kNone;
  uint16_t slot = 0;
  NodeAddress address;  // host empty when the node announced no endpoint: use its own host
};

// Classifies a reply frame. Only error frames starting with MOVED, ASK or TRYAGAIN are
// redirects; anything malformed is kNone and goes to the client unchanged.
Redirect ParseRedirect(std::string_view frame);

}  // namespace slotplane::dataplane
