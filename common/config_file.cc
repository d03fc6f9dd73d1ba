#include "common/config_file.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace slotplane {
namespace {

constexpr int kMaxIncludeDepth = 8;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

char Unescape(char c) {
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
      return c;
  }
}

// Reads one double-quoted token starting after the opening quote; `i` ends past the closing one.
bool ReadDoubleQuoted(const std::string& s, size_t* i, std::string* token) {
  while (*i < s.size()) {
    char c = s[*i];
    if (c == '\\' && *i + 3 < s.size() && s[*i + 1] == 'x' && HexValue(s[*i + 2]) >= 0 &&
        HexValue(s[*i + 3]) >= 0) {
      token->push_back(static_cast<char>(HexValue(s[*i + 2]) * 16 + HexValue(s[*i + 3])));
      *i += 4;
    } else if (c == '\\' && *i + 1 < s.size()) {
      token->push_back(Unescape(s[*i + 1]));
      *i += 2;
    } else if (c == '"') {
      ++*i;
      // A closing quote must be followed by a space or the end, as in Redis.
      return *i == s.size() || std::isspace(static_cast<unsigned char>(s[*i]));
    } else {
      token->push_back(c);
      ++*i;
    }
  }
  return false;
}

bool ReadSingleQuoted(const std::string& s, size_t* i, std::string* token) {
  while (*i < s.size()) {
    char c = s[*i];
    if (c == '\\' && *i + 1 < s.size() && s[*i + 1] == '\'') {
      token->push_back('\'');
      *i += 2;
    } else if (c == '\'') {
      ++*i;
      return *i == s.size() || std::isspace(static_cast<unsigned char>(s[*i]));
    } else {
      token->push_back(c);
      ++*i;
    }
  }
  return false;
}

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
  size_t i = 0;
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i == line.size()) return true;
    std::string token;
    if (line[i] == '"') {
      ++i;
      if (!ReadDoubleQuoted(line, &i, &token)) return false;
    } else if (line[i] == '\'') {
      ++i;
      if (!ReadSingleQuoted(line, &i, &token)) return false;
    } else {
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) {
        token.push_back(line[i++]);
      }
    }
    out->push_back(std::move(token));
  }
}

absl::StatusOr<std::vector<ConfigDirective>> ReadConfigFile(const std::string& path) {
  return ReadWithDepth(path, 0);
}

absl::StatusOr<std::vector<ConfigDirective>> ParseConfigText(const std::string& text,
                                                             const std::string& file) {
  return ParseWithDepth(text, file, 0);
}

}  // namespace slotplane
