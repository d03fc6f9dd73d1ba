#pragma once

#include <string_view>

namespace slotplane {

// Redis's glob matching (stringmatchlen, case-sensitive): `*`, `?`, `[abc]`, `[^a-z]`, `\x`.
// Used for ACL key and channel patterns on the request path, where the text is the client's and
// may be long: the match is iterative, O(pattern × text) at worst, never exponential, and
// allocates nothing.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace slotplane
