#include "tests/faults/error_kinds.h"

#include <algorithm>
#include <cctype>

namespace slotplane::faults {
namespace {

constexpr size_t kMaxKindBytes = 80;

bool HasDigit(std::string_view word) {
  return std::any_of(word.begin(), word.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

std::string ErrorReplyKind(std::string_view message) {
  std::string kind;
  size_t pos = 0;
  while (pos < message.size() && kind.size() < kMaxKindBytes) {
    const size_t end = std::min(message.find(' ', pos), message.size());
    const std::string_view word = message.substr(pos, end - pos);
    if (!word.empty()) {
      if (!kind.empty()) kind += ' ';
      kind += HasDigit(word) ? std::string_view("#") : word;
    }
    pos = end + 1;
  }
  if (kind.size() > kMaxKindBytes) kind.resize(kMaxKindBytes);
  return kind;
}

std::string TransportErrorKind(std::string_view errstr) {
  if (Contains(errstr, "temporarily unavailable") || Contains(errstr, "timed out") ||
      Contains(errstr, "Timeout")) {
    return "conn: timeout";
  }
  if (Contains(errstr, "Server closed") || Contains(errstr, "reset by peer") ||
      Contains(errstr, "Broken pipe")) {
    return "conn: closed";
  }
  return "conn: " + ErrorReplyKind(errstr);
}

}  // namespace slotplane::faults
