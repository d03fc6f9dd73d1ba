#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Builders for the replies the proxy writes itself (local commands). They append RESP2 frames to
// a std::string so a reply can be assembled in one buffer and completed in one call.
namespace slotplane::dataplane::resp {

void AppendSimple(std::string* out, std::string_view text);  // +text
void AppendBulk(std::string* out, std::string_view bytes);   // $n bytes
void AppendNullBulk(std::string* out);                       // $-1
void AppendInteger(std::string* out, int64_t value);         // :n
void AppendArrayHeader(std::string* out, size_t count);      // *n

inline constexpr std::string_view kOk = "+OK\r\n";
inline constexpr std::string_view kPong = "+PONG\r\n";

}  // namespace slotplane::dataplane::resp
