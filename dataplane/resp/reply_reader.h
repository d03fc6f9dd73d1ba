#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

// Reads values out of one complete reply frame (as ReplyScanner delimits it), for the replies the
// proxy merges (fan-out and split commands). Views point into the frame; nothing is copied.
// RESP2 only: the proxy talks RESP2 to the cluster.
namespace slotplane::dataplane::resp {

inline bool IsError(std::string_view frame) { return !frame.empty() && frame[0] == '-'; }

// ":<n>\r\n" → n.
bool ReadInteger(std::string_view frame, int64_t* value);

// "$<n>\r\n<bytes>\r\n" → bytes; "$-1\r\n" → is_null. False for any other type.
bool ReadBulk(std::string_view frame, std::string_view* bytes, bool* is_null);

// "+<text>\r\n" → text.
bool ReadSimple(std::string_view frame, std::string_view* text);

// "*<n>\r\n<e1>...<en>" → the n element frames, appended to `elements` (cleared first). "*-1\r\n"
// gives no elements and is_null. False when the frame is not an array or is malformed.
bool ReadArray(std::string_view frame, std::vector<std::string_view>* elements,
               bool* is_null = nullptr);

// The text of an error frame without the '-' and the CRLF.
std::string_view ErrorText(std::string_view frame);

}  // namespace slotplane::dataplane::resp
