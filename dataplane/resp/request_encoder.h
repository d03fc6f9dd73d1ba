#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

// Encodes `args` as a RESP multibulk command into `out` (replacing its contents): inline
// commands and commands the proxy builds itself travel to the nodes in this form.
void EncodeCommand(const std::vector<std::string_view>& args, std::string* out);

}  // namespace slotplane::dataplane
