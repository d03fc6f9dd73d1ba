#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace slotplane {

// One `name value...` directive of a config file, with where it came from for error messages.
struct ConfigDirective {
  std::string name;  // lower case
  std::vector<std::string> values;
  std::string file;
  int line = 0;

  std::string Where() const;  // "file:line"
};

// Reads a redis-cluster-proxy style config file: one `name value...` per line, `#` comments,
// values split like Redis's config (double quotes with escapes, single quotes), `include FILE`
// (relative to the including file; nested up to 8 deep). Errors name the file and line.
absl::StatusOr<std::vector<ConfigDirective>> ReadConfigFile(const std::string& path);

// Parses config text (for tests and `include`); `file` is used in errors and relative includes.
absl::StatusOr<std::vector<ConfigDirective>> ParseConfigText(const std::string& text,
                                                             const std::string& file);

// Splits one line the way Redis's sdssplitargs does (common/split_args.h). Returns false on
// unbalanced quotes.
bool SplitConfigLine(const std::string& line, std::vector<std::string>* out);

}  // namespace slotplane
