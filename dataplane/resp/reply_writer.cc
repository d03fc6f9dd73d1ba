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

void AppendNull(std::string* out, bool resp3) {
  if (resp3) {
    out->append("_\r\n", 3);
  } else {
    out->append("$-1\r\n", 5);
  }
}

void AppendNullArray(std::string* out, bool resp3) {
  if (resp3) {
    out->append("_\r\n", 3);
  } else {
    out->append("*-1\r\n", 5);
  }
}

void AppendMapHeader(std::string* out, size_t pairs, bool resp3) {
  if (resp3) {
    AppendNumberLine(out, '%', static_cast<int64_t>(pairs));
  } else {
    AppendNumberLine(out, '*', static_cast<int64_t>(2 * pairs));
  }
}

void AppendSetHeader(std::string* out, size_t count, bool resp3) {
  AppendNumberLine(out, resp3 ? '~' : '*', static_cast<int64_t>(count));
}

void AppendPushHeader(std::string* out, size_t count, bool resp3) {
  AppendNumberLine(out, resp3 ? '>' : '*', static_cast<int64_t>(count));
}

void AppendBoolean(std::string* out, bool value, bool resp3) {
  if (resp3) {
    out->append(value ? "#t\r\n" : "#f\r\n", 4);
  } else {
    out->append(value ? ":1\r\n" : ":0\r\n", 4);
  }
}

void AppendVerbatim(std::string* out, std::string_view text, bool resp3) {
  if (!resp3) {
    AppendBulk(out, text);
    return;
  }
  AppendNumberLine(out, '=', static_cast<int64_t>(text.size() + 4));
  out->append("txt:", 4);
  out->append(text.data(), text.size());
  out->append("\r\n", 2);
}

void AppendDouble(std::string* out, std::string_view text, bool resp3) {
  if (!resp3) {
    AppendBulk(out, text);
    return;
  }
  out->push_back(',');
  out->append(text.data(), text.size());
  out->append("\r\n", 2);
}

}  // namespace slotplane::dataplane::resp
