#include "dataplane/resp/reply_writer.h"

#include <charconv>

namespace slotplane::dataplane::resp {
namespace {

void AppendNumberLine(std::string* out, char type, int64_t value) {
  char digits[24];
  char* end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out->push_back(type);
  out->append(digits, end - digits);
  out->append("\r\n", 2);
}

}  // namespace

void AppendSimple(std::string* out, std::string_view text) {
  out->push_back('+');
  out->append(text.data(), text.size());
  out->append("\r\n", 2);
}

void AppendBulk(std::string* out, std::string_view bytes) {
  AppendNumberLine(out, '$', static_cast<int64_t>(bytes.size()));
  out->append(bytes.data(), bytes.size());
  out->append("\r\n", 2);
}

void AppendNullBulk(std::string* out) { out->append("$-1\r\n", 5); }

void AppendInteger(std::string* out, int64_t value) { AppendNumberLine(out, ':', value); }

void AppendArrayHeader(std::string* out, size_t count) {
  AppendNumberLine(out, '*', static_cast<int64_t>(count));
}

}  // namespace slotplane::dataplane::resp
