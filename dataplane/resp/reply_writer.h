#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Builders for the replies the proxy writes itself (local commands, merged replies). They append
// frames to a std::string so a reply can be assembled in one buffer and completed in one call.
// The RESP2 builders serve both protocols where the frames are the same; those taking `resp3`
// write the client's protocol where RESP3 has its own type (null, map, set, double), as Redis does.
namespace slotplane::dataplane::resp {

void AppendSimple(std::string* out, std::string_view text);  // +text
void AppendBulk(std::string* out, std::string_view bytes);   // $n bytes
void AppendNullBulk(std::string* out);                       // $-1
void AppendInteger(std::string* out, int64_t value);         // :n
void AppendArrayHeader(std::string* out, size_t count);      // *n

void AppendNull(std::string* out, bool resp3);                      // _ or $-1
void AppendNullArray(std::string* out, bool resp3);                 // _ or *-1
void AppendMapHeader(std::string* out, size_t pairs, bool resp3);   // %n or *2n
void AppendSetHeader(std::string* out, size_t count, bool resp3);   // ~n or *n
void AppendPushHeader(std::string* out, size_t count, bool resp3);  // >n or *n
void AppendBoolean(std::string* out, bool value, bool resp3);       // #t/#f or :1/:0
// A text for humans (INFO, CLIENT LIST, LATENCY DOCTOR): =n txt:text or $n text.
void AppendVerbatim(std::string* out, std::string_view text, bool resp3);
// `text` is the number as Redis prints it ("1.5", "inf"): ,text or $n text.
void AppendDouble(std::string* out, std::string_view text, bool resp3);

inline constexpr std::string_view kOk = "+OK\r\n";
inline constexpr std::string_view kPong = "+PONG\r\n";

}  // namespace slotplane::dataplane::resp
