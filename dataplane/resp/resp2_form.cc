#include "dataplane/resp/resp2_form.h"

#include <cstdint>
#include <vector>

namespace slotplane::dataplane::resp {
namespace {

// An open aggregate: how many elements are still to come, and whether they are dropped (the
// elements of an attribute, at any depth).
struct Level {
  int64_t left;
  bool attribute;
  bool dropped;
};

int64_t ToInteger(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  int64_t value = 0;
  for (size_t i = negative ? 1 : 0; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') break;
    value = value * 10 + (text[i] - '0');
  }
  return negative ? -value : value;
}

void AppendHeader(std::string* out, char type, int64_t count) {
  out->push_back(type);
  out->append(std::to_string(count));
  out->append("\r\n");
}

void AppendBulk(std::string* out, std::string_view bytes) {
  AppendHeader(out, '$', static_cast<int64_t>(bytes.size()));
  out->append(bytes);
  out->append("\r\n");
}

// Pops the aggregates `value` completed. True when the frame's outermost value is complete.
bool ValueDone(std::vector<Level>* stack) {
  while (!stack->empty()) {
    if (--stack->back().left > 0) return false;
    const bool attribute = stack->back().attribute;
    stack->pop_back();
    if (attribute) return false;  // an attribute only precedes the value it describes
  }
  return true;
}

}  // namespace

void AppendResp2Form(std::string_view frame, std::string* out) {
  std::vector<Level> stack;
  std::string dropped;
  size_t pos = 0;
  while (pos < frame.size()) {
    const size_t eol = frame.find("\r\n", pos);
    if (eol == std::string_view::npos) return;
    const char type = frame[pos];
    const std::string_view line = frame.substr(pos + 1, eol - pos - 1);
    size_t next = eol + 2;
    std::string* o = !stack.empty() && stack.back().dropped ? &dropped : out;
    const bool in_dropped = o == &dropped;
    int64_t open = 0;  // elements of an aggregate that starts here
    bool attribute = false;
    switch (type) {
      case '$':
      case '=':
      case '!': {
        const int64_t n = ToInteger(line);
        if (n < 0) {
          o->append("$-1\r\n");
          break;
        }
        if (next + static_cast<size_t>(n) + 2 > frame.size()) return;
        std::string_view payload = frame.substr(next, static_cast<size_t>(n));
        next += static_cast<size_t>(n) + 2;
        if (type == '=') {
          AppendBulk(o, payload.size() >= 4 ? payload.substr(4) : payload);  // "txt:"
        } else if (type == '!') {
          o->push_back('-');
          for (char c : payload) o->push_back(c == '\r' || c == '\n' ? ' ' : c);
          o->append("\r\n");
        } else {
          AppendBulk(o, payload);
        }
        break;
      }
      case '_':
        o->append("$-1\r\n");
        break;
      case ',':
      case '(':
        AppendBulk(o, line);
        break;
      case '#':
        o->append(line == "t" ? ":1\r\n" : ":0\r\n");
        break;
      case '*':
      case '~':
      case '>':
      case '%':
      case '|': {
        const int64_t n = ToInteger(line);
        if (n < 0) {
          o->append("*-1\r\n");
          break;
        }
        attribute = type == '|';
        open = type == '%' || attribute ? 2 * n : n;
        if (!attribute) AppendHeader(o, '*', open);
        break;
      }
      default:  // + - : and anything else: one line, as it is
        o->append(frame.substr(pos, next - pos));
        break;
    }
    pos = next;
    if (open > 0) {
      stack.push_back(Level{open, attribute, in_dropped || attribute});
      continue;
    }
    if (attribute) continue;  // an empty attribute: the value follows
    if (ValueDone(&stack)) return;
  }
}

}  // namespace slotplane::dataplane::resp
