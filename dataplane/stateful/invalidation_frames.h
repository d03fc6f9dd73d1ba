#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

// The frames of client-side caching (Redis's tracking.c), read from a node and written to
// clients. Pure functions; any thread.

// Reads a node's RESP3 invalidation push: `>2 $10 invalidate` followed by an array of keys, or by
// a null (`_`: the node flushed, everything is invalid). True for such a frame; `keys` point into
// `frame`.
bool ParseInvalidation(std::string_view frame, bool* flush, std::vector<std::string_view>* keys);

// Appends what Redis sends a client for invalidated `keys` (or for everything, with `flush`):
//   RESP3:                       >2 $10 invalidate *N keys...   (flush: _ instead of the array)
//   RESP2 (a REDIRECT target subscribed to __redis__:invalidate):
//                                *3 $7 message $20 __redis__:invalidate *N keys... (flush: $-1)
void AppendInvalidation(std::string* out, bool resp3, const std::vector<std::string_view>& keys,
                        bool flush);

// RESP3 push a client gets when its REDIRECT target is gone: >2 $21 tracking-redir-broken :id.
void AppendRedirectBroken(std::string* out, int64_t redirect);

}  // namespace slotplane::dataplane
