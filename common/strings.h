#pragma once

#include <cstddef>
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

}  // namespace slotplane
