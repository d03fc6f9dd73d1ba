#include "common/split_args.h"

#include <cstring>

namespace slotplane {
namespace {

// isspace() in the C locale, which Redis runs with for LC_CTYPE.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

char UnescapeInDoubleQuotes(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;  // covers \\ and \" as well as unknown escapes
  }
}

// One sdssplitargs token, decoded into `out`. The line reads as a C string: `At(n)` is '\0'.
class InlineTokenizer {
 public:
  InlineTokenizer(const char* line, size_t length, std::string* out)
      : line_(line), length_(length), out_(out) {}

  // Skips blanks; false when the line has no more tokens.
  bool SkipBlanks() {
    while (i_ < length_ && IsSpace(line_[i_])) ++i_;
    return i_ < length_;
  }

  // Reads the token at the cursor; false on unbalanced quotes. A quote inside a token opens a
  // quoted part of the same token (foo"bar baz" is one argument), as in sdssplitargs.
  bool ReadToken() {
    for (;;) {
      const char c = At(i_);
      switch (c) {
        case ' ':
        case '\n':
        case '\r':
        case '\t':
          ++i_;
          return true;
        case '\0':
          return true;
        case '"':
          ++i_;
          return ReadDoubleQuoted();
        case '\'':
          ++i_;
          return ReadSingleQuoted();
        default:
          out_->push_back(c);
          ++i_;
      }
    }
  }

 private:
  char At(size_t i) const { return i < length_ ? line_[i] : '\0'; }

  // A closing quote must be followed by a blank or by the end of the line.
  bool CloseQuote() {
    const char next = At(i_ + 1);
    if (next != '\0' && !IsSpace(next)) return false;
    ++i_;
    return true;
  }

  bool ReadDoubleQuoted() {
    for (;;) {
      const char c = At(i_);
      if (c == '\\' && At(i_ + 1) == 'x' && IsHexDigit(At(i_ + 2)) && IsHexDigit(At(i_ + 3))) {
        out_->push_back(static_cast<char>(HexValue(At(i_ + 2)) * 16 + HexValue(At(i_ + 3))));
        i_ += 4;
      } else if (c == '\\' && At(i_ + 1) != '\0') {
        out_->push_back(UnescapeInDoubleQuotes(At(i_ + 1)));
        i_ += 2;
      } else if (c == '"') {
        return CloseQuote();
      } else if (c == '\0') {
        return false;
      } else {
        out_->push_back(c);
        ++i_;
      }
    }
  }

  bool ReadSingleQuoted() {
    for (;;) {
      const char c = At(i_);
      if (c == '\\' && At(i_ + 1) == '\'') {
        out_->push_back('\'');
        i_ += 2;
      } else if (c == '\'') {
        return CloseQuote();
      } else if (c == '\0') {
        return false;
      } else {
        out_->push_back(c);
        ++i_;
      }
    }
  }

  const char* line_;
  size_t length_;
  std::string* out_;
  size_t i_ = 0;
};

}  // namespace

bool SplitArgs(std::string_view line, std::string* decoded, std::vector<ArgSpan>* spans) {
  const void* nul = std::memchr(line.data(), '\0', line.size());
  size_t length = nul == nullptr ? line.size()
                                 : static_cast<size_t>(static_cast<const char*>(nul) - line.data());
  InlineTokenizer tokenizer(line.data(), length, decoded);
  while (tokenizer.SkipBlanks()) {
    const size_t start = decoded->size();
    if (!tokenizer.ReadToken()) return false;
    spans->push_back({start, decoded->size() - start});
  }
  return true;
}

}  // namespace slotplane
