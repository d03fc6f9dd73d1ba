#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/resp/wire_bytes.h"

namespace slotplane::dataplane {

// Encodes `args` as a RESP multibulk command into `out` (replacing its contents): inline
// commands and commands the proxy builds itself travel to the nodes in this form.
void EncodeCommand(const std::vector<std::string_view>& args, std::string* out);
void EncodeCommand(const std::vector<std::string_view>& args, WireBytes* out);

// A command built one argument at a time (the parts of a split command): the `*count` header,
// then each argument as a bulk string.
void AppendCommandHeader(WireBytes* out, size_t count);
void AppendCommandArg(WireBytes* out, std::string_view arg);

}  // namespace slotplane::dataplane
