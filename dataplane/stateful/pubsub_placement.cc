#include "dataplane/stateful/pubsub_placement.h"

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "common/strings.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kKeyspacePrefix = "__keyspace@";
constexpr std::string_view kKeyeventPrefix = "__keyevent@";

// Reads the class "[...]" starting at `pattern[start]` (the '[') the way Redis's stringmatchlen
// does: whether `c` is in it, and where the pattern continues after it (past the ']', or at the
// end of a class left open).
bool ClassMatches(std::string_view pattern, size_t start, char c, size_t* next) {
  size_t i = start + 1;
  bool negate = i < pattern.size() && pattern[i] == '^';
  if (negate) ++i;
  bool match = false;
  while (i < pattern.size() && pattern[i] != ']') {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      match |= pattern[i + 1] == c;
      i += 2;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      char low = pattern[i], high = pattern[i + 2];
      if (low > high) std::swap(low, high);
      match |= c >= low && c <= high;
      i += 3;
    } else {
      match |= pattern[i] == c;
      ++i;
    }
  }
  *next = i < pattern.size() ? i + 1 : i;
  return negate ? !match : match;
}

// Adds `state` and, through any '*' there (which may match nothing), the states after it.
void AddState(std::string_view pattern, size_t state, std::vector<bool>* states) {
  while (state <= pattern.size() && !(*states)[state]) {
    (*states)[state] = true;
    if (state == pattern.size() || pattern[state] != '*') return;
    ++state;
  }
}

}  // namespace

bool IsKeyspaceChannel(std::string_view channel) {
  return absl::StartsWith(AbslView(channel), AbslView(kKeyspacePrefix)) ||
         absl::StartsWith(AbslView(channel), AbslView(kKeyeventPrefix));
}

bool LivesOnEveryMaster(SubscriptionType type, std::string_view name) {
  switch (type) {
    case SubscriptionType::kChannel:
      return IsKeyspaceChannel(name);
    case SubscriptionType::kPattern:
      return PatternCanMatchPrefix(name, kKeyspacePrefix) ||
             PatternCanMatchPrefix(name, kKeyeventPrefix);
    case SubscriptionType::kShard:
      return false;
  }
  return false;
}

bool PatternCanMatchPrefix(std::string_view pattern, std::string_view prefix) {
  // The glob as a nondeterministic automaton: a state is a position in `pattern`; the prefix is
  // fed one character at a time. Whatever follows the prefix is free, so any state still alive
  // at its end can complete a match (a class always admits some character; "[]" and "[^...]"
  // covering every byte are not worth telling apart).
  std::vector<bool> states(pattern.size() + 1, false), next(pattern.size() + 1, false);
  AddState(pattern, 0, &states);
  for (char c : prefix) {
    std::fill(next.begin(), next.end(), false);
    bool alive = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (!states[i]) continue;
      size_t to = i + 1;
      bool step = false;
      switch (pattern[i]) {
        case '*':  // consumes the character and stays
          to = i;
          step = true;
          break;
        case '?':
          step = true;
          break;
        case '[':
          step = ClassMatches(pattern, i, c, &to);
          break;
        case '\\':  // the next character literally; a trailing '\\' is itself
          if (i + 1 < pattern.size()) {
            to = i + 2;
            step = pattern[i + 1] == c;
          } else {
            step = c == '\\';
          }
          break;
        default:
          step = pattern[i] == c;
      }
      if (step) {
        AddState(pattern, to, &next);
        alive = true;
      }
    }
    if (!alive) return false;
    states.swap(next);
  }
  return true;
}

}  // namespace slotplane::dataplane
