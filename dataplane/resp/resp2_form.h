#pragma once

#include <string>
#include <string_view>

namespace slotplane::dataplane::resp {

// Appends to `out` the RESP2 form of `frame`, one complete reply frame in RESP3 (as a backend's
// ReplyScanner delimited it): what Redis writes for the same reply to a RESP2 client. Maps become
// flat arrays of 2n elements, sets and pushes arrays, `_` a null bulk string, doubles and big
// numbers bulk strings of their text, booleans `:1`/`:0`, verbatim strings bulk strings without
// their `txt:` format, blob errors simple errors (CR and LF as spaces); attributes are dropped.
// RESP2 frames are copied as they are.
//
// For the replies the proxy merges: the parts of a RESP3 client's split or fan-out command travel
// on the nodes' RESP3 connections (so they keep their place among the client's other commands),
// and the reducers read RESP2. Iterative (nesting costs heap, not stack); a frame cut short ends
// the output where it ends.
void AppendResp2Form(std::string_view frame, std::string* out);

}  // namespace slotplane::dataplane::resp
