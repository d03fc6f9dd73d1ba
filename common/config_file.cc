#include "common/config_file.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/split_args.h"
#include "common/strings.h"

namespace slotplane {
namespace {

constexpr int kMaxIncludeDepth = 8;

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

absl::StatusOr<std::vector<ConfigDirective>> ParseWithDepth(const std::string& text,
                                                            const std::string& file, int depth);

absl::StatusOr<std::vector<ConfigDirective>> ReadWithDepth(const std::string& path, int depth) {
  if (depth > kMaxIncludeDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("config includes nest deeper than ", kMaxIncludeDepth, " at ", path));
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open config file '", path, "'"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseWithDepth(buffer.str(), path, depth);
}

absl::StatusOr<std::vector<ConfigDirective>> ParseWithDepth(const std::string& text,
                                                            const std::string& file, int depth) {
  std::vector<ConfigDirective> directives;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  std::vector<std::string> tokens;
  while (std::getline(lines, line)) {
    ++number;
    std::string_view trimmed = StdView(absl::StripAsciiWhitespace(line));
    if (trimmed.empty() || trimmed[0] == '#') continue;
    if (!SplitConfigLine(std::string(trimmed), &tokens)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", number, ": unbalanced quotes in configuration line"));
    }
    ConfigDirective d{absl::AsciiStrToLower(tokens[0]),
                      std::vector<std::string>(tokens.begin() + 1, tokens.end()), file, number};
    if (d.name == "include") {
      if (d.values.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(d.Where(), ": include takes one file"));
      }
      std::string target = d.values[0];
      if (!target.empty() && target[0] != '/') target = DirectoryOf(file) + target;
      auto included = ReadWithDepth(target, depth + 1);
      if (!included.ok()) return included.status();
      for (auto& inc : *included) directives.push_back(std::move(inc));
      continue;
    }
    directives.push_back(std::move(d));
  }
  return directives;
}

}  // namespace

std::string ConfigDirective::Where() const { return absl::StrCat(file, ":", line); }

bool SplitConfigLine(const std::string& line, std::vector<std::string>* out) {
  out->clear();
  std::string decoded;
  std::vector<ArgSpan> spans;
  if (!SplitArgs(line, &decoded, &spans)) return false;
  for (const ArgSpan& span : spans) out->push_back(decoded.substr(span.offset, span.length));
  return true;
}

absl::StatusOr<std::vector<ConfigDirective>> ReadConfigFile(const std::string& path) {
  return ReadWithDepth(path, 0);
}

absl::StatusOr<std::vector<ConfigDirective>> ParseConfigText(const std::string& text,
                                                             const std::string& file) {
  return ParseWithDepth(text, file, 0);
}

}  // namespace slotplane
