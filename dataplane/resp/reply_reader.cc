#include "dataplane/resp/reply_reader.h"

#include "dataplane/resp/reply_scanner.h"

namespace slotplane::dataplane::resp {
namespace {

// Parses the number in a "<type><digits>\r\n" header at the start of `frame`; `*header_size` is
// the size of that line.
bool ReadHeader(std::string_view frame, char type, int64_t* value, size_t* header_size) {
  if (frame.size() < 4 || frame[0] != type) return false;
  size_t end = frame.find("\r\n");
  if (end == std::string_view::npos || end < 2) return false;
  size_t i = 1;
  bool negative = frame[1] == '-';
  if (negative) ++i;
  if (i == end || end - i > 19) return false;
  int64_t v = 0;
  for (; i < end; ++i) {
    unsigned digit = static_cast<unsigned char>(frame[i]) - '0';
    if (digit > 9) return false;
    v = v * 10 + digit;
  }
  *value = negative ? -v : v;
  *header_size = end + 2;
  return true;
}

}  // namespace

bool ReadInteger(std::string_view frame, int64_t* value) {
  size_t header_size;
  return ReadHeader(frame, ':', value, &header_size);
}

bool ReadBulk(std::string_view frame, std::string_view* bytes, bool* is_null) {
  int64_t length;
  size_t header_size;
  if (!ReadHeader(frame, '$', &length, &header_size)) return false;
  *is_null = length < 0;
  if (length < 0) {
    *bytes = std::string_view();
    return true;
  }
  if (frame.size() < header_size + static_cast<size_t>(length) + 2) return false;
  *bytes = frame.substr(header_size, static_cast<size_t>(length));
  return true;
}

bool ReadSimple(std::string_view frame, std::string_view* text) {
  if (frame.size() < 3 || frame[0] != '+') return false;
  size_t end = frame.find("\r\n");
  if (end == std::string_view::npos) return false;
  *text = frame.substr(1, end - 1);
  return true;
}

bool ReadArray(std::string_view frame, std::vector<std::string_view>* elements, bool* is_null) {
  elements->clear();
  int64_t count;
  size_t pos;
  if (!ReadHeader(frame, '*', &count, &pos)) return false;
  if (is_null != nullptr) *is_null = count < 0;
  ReplyScanner scanner;
  for (int64_t i = 0; i < count; ++i) {
    if (scanner.Scan(frame.data() + pos, frame.size() - pos) != ScanStatus::kComplete) {
      elements->clear();
      return false;
    }
    elements->push_back(frame.substr(pos, scanner.frame_size()));
    pos += scanner.frame_size();
  }
  return true;
}

std::string_view ErrorText(std::string_view frame) {
  if (!frame.empty() && frame[0] == '-') frame.remove_prefix(1);
  while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.remove_suffix(1);
  return frame;
}

}  // namespace slotplane::dataplane::resp
