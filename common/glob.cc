#include "common/glob.h"

#include <utility>

namespace slotplane {
namespace {

// A `[...]` class starting at pattern[*p] == '[': whether `c` is in it. Leaves *p on the class's
// closing ']' (or on the last byte when it is unclosed, as Redis does).
bool MatchClass(std::string_view pattern, size_t* p, char c) {
  size_t i = *p + 1;
  const bool negate = i < pattern.size() && pattern[i] == '^';
  if (negate) ++i;
  bool match = false;
  for (; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      ++i;
      if (pattern[i] == c) match = true;
    } else if (pattern[i] == ']') {
      break;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      char start = pattern[i], end = pattern[i + 2];
      if (start > end) std::swap(start, end);
      if (c >= start && c <= end) match = true;
      i += 2;
    } else if (pattern[i] == c) {
      match = true;
    }
  }
  *p = i < pattern.size() ? i : pattern.size() - 1;
  return negate ? !match : match;
}

// Matches one pattern token other than '*' at pattern[*p] against `c`; on success moves *p past
// the token.
bool MatchToken(std::string_view pattern, size_t* p, char c) {
  size_t i = *p;
  bool match = false;
  switch (pattern[i]) {
    case '?':
      match = true;
      break;
    case '[':
      match = MatchClass(pattern, &i, c);
      break;
    case '\\':
      if (i + 1 < pattern.size()) ++i;
      match = pattern[i] == c;
      break;
    default:
      match = pattern[i] == c;
  }
  if (match) *p = i + 1;
  return match;
}

}  // namespace

// The classic single-backtrack-point algorithm: every token but '*' consumes exactly one byte,
// so on a mismatch it is enough to let the last '*' swallow one more byte.
bool GlobMatch(std::string_view pattern, std::string_view text) {
  constexpr size_t kNone = std::string_view::npos;
  size_t p = 0, t = 0;
  size_t star_p = kNone, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return true;
      star_p = p;
      star_t = t;
      continue;
    }
    if (p < pattern.size() && MatchToken(pattern, &p, text[t])) {
      ++t;
      continue;
    }
    if (star_p == kNone) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace slotplane
