#pragma once

#include <string>
#include <vector>

namespace slotplane::ctl {

// A text table with aligned columns (two spaces between them, the last column not padded), as
// slotplanectl prints by default.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string str() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "12s ago", "3m ago", "2h ago", "4d ago" from a Unix time in ms ("-" for 0).
std::string Ago(int64_t unix_ms, int64_t now_unix_ms);

}  // namespace slotplane::ctl
