#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

// Debian's Abseil 20220623 is built with its own absl::string_view (not an alias of
// std::string_view), so the two do not convert implicitly. slotplane uses std::string_view
// throughout and crosses into Abseil with AbslView().
namespace slotplane {

inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view StdView(absl::string_view s) { return {s.data(), s.size()}; }

// ASCII case-insensitive equality, allocation-free.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// How much of a value an error message or a log line echoes.
inline constexpr size_t kMaxEchoedBytes = 64;

// `value` as messages echo it: whole up to kMaxEchoedBytes, else its first kMaxEchoedBytes bytes
// and "…", so that a huge value (a config line, a CONFIG SET argument) never fills a log or a
// reply. Never use it on a secret: a secret is not echoed at all.
inline std::string Echoed(std::string_view value) {
  if (value.size() <= kMaxEchoedBytes) return std::string(value);
  return std::string(value.substr(0, kMaxEchoedBytes)) + "\u2026";
}

}  // namespace slotplane
