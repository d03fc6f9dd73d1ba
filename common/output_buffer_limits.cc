#include "common/output_buffer_limits.h"

#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/option_table.h"
#include "common/strings.h"

namespace slotplane {

const char kDefaultOutputBufferLimits[] = "normal 268435456 0 0 pubsub 33554432 8388608 60";

namespace {

absl::StatusOr<OutputBufferLimit> ParseClass(std::string_view name, std::string_view text,
                                             const std::vector<absl::string_view>& words,
                                             size_t at) {
  absl::StatusOr<int64_t> hard = ParseSize(name, StdView(words[at + 1]), 0);
  absl::StatusOr<int64_t> soft = ParseSize(name, StdView(words[at + 2]), 0);
  absl::StatusOr<int64_t> seconds =
      ParseInteger(name, StdView(words[at + 3]), 0, std::numeric_limits<int32_t>::max());
  if (!hard.ok() || !soft.ok() || !seconds.ok()) {
    return BadOptionValue(name, text, "error in hard, soft or soft_seconds setting");
  }
  return OutputBufferLimit{*hard, *soft, *seconds};
}

}  // namespace

absl::StatusOr<OutputBufferLimits> ParseOutputBufferLimits(std::string_view name,
                                                           std::string_view text,
                                                           const OutputBufferLimits& base) {
  std::vector<absl::string_view> words =
      absl::StrSplit(AbslView(text), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty() || words.size() % 4 != 0) {
    return BadOptionValue(name, text,
                          "expected <class> <hard limit> <soft limit> <soft seconds>, repeated");
  }
  OutputBufferLimits limits = base;
  for (size_t at = 0; at < words.size(); at += 4) {
    OutputBufferLimit* target = nullptr;
    if (EqualsIgnoreCase(StdView(words[at]), "normal")) {
      target = &limits.normal;
    } else if (EqualsIgnoreCase(StdView(words[at]), "pubsub")) {
      target = &limits.pubsub;
    } else {
      return BadOptionValue(name, text,
                            "invalid client class (slotplane has the classes normal and pubsub)");
    }
    absl::StatusOr<OutputBufferLimit> limit = ParseClass(name, text, words, at);
    if (!limit.ok()) return limit.status();
    *target = *limit;
  }
  return limits;
}

std::string FormatOutputBufferLimits(const OutputBufferLimits& limits) {
  auto one = [](const char* name, const OutputBufferLimit& limit) {
    return absl::StrCat(name, " ", limit.hard_bytes, " ", limit.soft_bytes, " ",
                        limit.soft_seconds);
  };
  return absl::StrCat(one("normal", limits.normal), " ", one("pubsub", limits.pubsub));
}

}  // namespace slotplane
