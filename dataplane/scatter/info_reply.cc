#include "dataplane/scatter/info_reply.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "dataplane/scatter/info_fields.h"

namespace slotplane::dataplane {
namespace {

using Field = std::pair<std::string, std::string>;

struct Section {
  std::string header;  // "# Server" as written
  std::string name;    // "server"
  std::vector<Field> fields;
};

std::vector<Section> ParseSections(std::string_view text) {
  std::vector<Section> sections;
  for (absl::string_view line : absl::StrSplit(AbslView(text), "\r\n")) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      Section section;
      section.header = std::string(line);
      section.name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(1)));
      sections.push_back(std::move(section));
      continue;
    }
    if (sections.empty()) sections.push_back(Section{"", "", {}});
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    sections.back().fields.emplace_back(std::string(line.substr(0, colon)),
                                        std::string(line.substr(colon + 1)));
  }
  return sections;
}

// A plain decimal number with a fractional part ("0.12"); its decimals are in *decimals.
bool IsDecimal(std::string_view v, int* decimals) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i != dot && !(absl::ascii_isdigit(v[i]) || (i == 0 && v[i] == '-'))) return false;
  }
  *decimals = static_cast<int>(v.size() - dot - 1);
  return true;
}

std::string FormatDecimal(double value, int decimals) {
  char buffer[64];
  snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

// Redis's bytesToHuman().
std::string BytesToHuman(int64_t n) {
  const double d = static_cast<double>(n);
  const char* units = "KMGTP";
  if (n < 1024) return absl::StrCat(n, "B");
  double scaled = d / 1024;
  for (int i = 0; i < 5; ++i, scaled /= 1024) {
    if (scaled < 1024 || i == 4) return FormatDecimal(scaled, 2) + units[i];
  }
  return absl::StrCat(n, "B");
}

// Adds `value` to `total` when both are numbers of the same kind; false otherwise.
bool AddNumber(std::string* total, std::string_view value, bool allow_decimals) {
  int64_t a, b;
  if (absl::SimpleAtoi(*total, &a) && absl::SimpleAtoi(AbslView(value), &b)) {
    *total = absl::StrCat(a + b);
    return true;
  }
  int decimals_a, decimals_b;
  if (allow_decimals && IsDecimal(*total, &decimals_a) && IsDecimal(value, &decimals_b)) {
    *total = FormatDecimal(
        std::strtod(total->c_str(), nullptr) + std::strtod(std::string(value).c_str(), nullptr),
        decimals_a);
    return true;
  }
  return false;
}

// `value` as a number (integer or decimal); false for anything else.
bool ToNumber(std::string_view value, double* out) {
  int64_t n;
  int decimals;
  if (absl::SimpleAtoi(AbslView(value), &n)) {
    *out = static_cast<double>(n);
    return true;
  }
  if (IsDecimal(value, &decimals)) {
    *out = std::strtod(std::string(value).c_str(), nullptr);
    return true;
  }
  return false;
}

// Keeps in `total` the larger (or smaller) of two numbers, as written; non-numbers are left.
void KeepExtreme(std::string* total, std::string_view value, bool largest) {
  double a, b;
  if (!ToNumber(*total, &a) || !ToNumber(value, &b)) return;
  if (largest ? b > a : b < a) *total = std::string(value);
}

// "7.0.15" < "7.2.4", number by number; a part that is not a number compares as 0.
bool VersionLess(std::string_view a, std::string_view b) {
  std::vector<absl::string_view> pa = absl::StrSplit(AbslView(a), '.');
  std::vector<absl::string_view> pb = absl::StrSplit(AbslView(b), '.');
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); ++i) {
    int64_t x = 0, y = 0;
    if (i < pa.size()) absl::SimpleAtoi(pa[i], &x);
    if (i < pb.size()) absl::SimpleAtoi(pb[i], &y);
    if (x != y) return x < y;
  }
  return false;
}

// "k1=v1,k2=v2" as pairs, in order.
std::vector<std::pair<std::string, std::string>> Subfields(absl::string_view text) {
  std::vector<std::pair<std::string, std::string>> parts;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    parts.push_back(std::move(kv));
  }
  return parts;
}

std::string JoinSubfields(const std::vector<std::pair<std::string, std::string>>& parts) {
  std::string out;
  for (const auto& part : parts)
    absl::StrAppend(&out, out.empty() ? "" : ",", part.first, "=", part.second);
  return out;
}

// "calls=3,usec=10,usec_per_call=3.33" style values: integer subfields summed.
std::string AddSubfields(const std::string& total, std::string_view value) {
  std::vector<std::pair<std::string, std::string>> parts = Subfields(total);
  for (const auto& kv : Subfields(AbslView(value))) {
    for (auto& part : parts) {
      if (part.first == kv.first) AddNumber(&part.second, kv.second, false);
    }
  }
  int64_t calls = -1, usec = -1;
  for (const auto& part : parts) {
    if (part.first == "calls") absl::SimpleAtoi(part.second, &calls);
    if (part.first == "usec") absl::SimpleAtoi(part.second, &usec);
  }
  for (auto& part : parts) {
    if (part.first == "usec_per_call" && calls > 0 && usec >= 0) {
      part.second = FormatDecimal(static_cast<double>(usec) / static_cast<double>(calls), 2);
    }
  }
  return JoinSubfields(parts);
}

// "p50=1.003,p99=2.007" style values: each subfield the largest.
std::string MaxSubfields(const std::string& total, std::string_view value) {
  std::vector<std::pair<std::string, std::string>> parts = Subfields(total);
  for (const auto& kv : Subfields(AbslView(value))) {
    for (auto& part : parts) {
      if (part.first == kv.first) KeepExtreme(&part.second, kv.second, /*largest=*/true);
    }
  }
  return JoinSubfields(parts);
}

// keys=..,expires=..,avg_ttl=.. summed; avg_ttl weighted by expires.
std::string AddKeyspace(const std::string& total, std::string_view value) {
  auto parse = [](absl::string_view text) {
    std::map<std::string, int64_t> fields;
    for (absl::string_view item : absl::StrSplit(text, ',')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
      int64_t n = 0;
      absl::SimpleAtoi(kv.second, &n);
      fields[kv.first] = n;
    }
    return fields;
  };
  std::map<std::string, int64_t> a = parse(total), b = parse(AbslView(value));
  const int64_t expires = a["expires"] + b["expires"];
  const int64_t avg_ttl =
      expires == 0 ? 0 : (a["avg_ttl"] * a["expires"] + b["avg_ttl"] * b["expires"]) / expires;
  return absl::StrCat("keys=", a["keys"] + b["keys"], ",expires=", expires, ",avg_ttl=", avg_ttl);
}

// Folds another master's `value` of a field into the merged `total` by the field's rule.
void Combine(InfoMerge merge, std::string* total, std::string_view value) {
  switch (merge) {
    case InfoMerge::kSum:
      AddNumber(total, value, /*allow_decimals=*/true);
      return;
    case InfoMerge::kMax:
    case InfoMerge::kMin:
      KeepExtreme(total, value, merge == InfoMerge::kMax);
      return;
    case InfoMerge::kSumOrUnlimited:
      if (*total == "0" || value == "0") {
        *total = "0";
      } else {
        AddNumber(total, value, /*allow_decimals=*/false);
      }
      return;
    case InfoMerge::kWorstStatus:
      if (*total == "ok" && value != "ok") *total = std::string(value);
      return;
    case InfoMerge::kLowestVersion:
      if (VersionLess(value, *total)) *total = std::string(value);
      return;
    case InfoMerge::kSumPerEntry:
      *total = AddSubfields(*total, value);
      return;
    case InfoMerge::kMaxPerEntry:
      *total = MaxSubfields(*total, value);
      return;
    case InfoMerge::kKeyspace:
      *total = AddKeyspace(*total, value);
      return;
    case InfoMerge::kFirst:
    case InfoMerge::kDerived:
    case InfoMerge::kProxy:
    case InfoMerge::kFixed:
      return;
  }
}

// The merged section's fields by name, for the derived ones.
class FieldIndex {
 public:
  explicit FieldIndex(Section* section) : section_(section) {}
  Field* Find(std::string_view name) const {
    for (Field& f : section_->fields) {
      if (f.first == name) return &f;
    }
    return nullptr;
  }
  bool Number(std::string_view name, double* value) const {
    const Field* f = Find(name);
    return f != nullptr && ToNumber(f->second, value);
  }
  // Sets `name` to numerator/denominator (times `scale`) with two decimals and `suffix`, when
  // both are present and the denominator is positive; `otherwise` when it is not.
  void SetRatio(std::string_view name, std::string_view numerator, std::string_view denominator,
                double scale, std::string_view suffix, const char* otherwise = nullptr) const {
    Field* f = Find(name);
    double n, d;
    if (f == nullptr || !Number(numerator, &n) || !Number(denominator, &d)) return;
    if (d > 0) {
      f->second = absl::StrCat(FormatDecimal(n * scale / d, 2), AbslView(suffix));
    } else if (otherwise != nullptr) {
      f->second = otherwise;
    }
  }

 private:
  Section* section_;
};

// Recomputes the kDerived fields from the merged ones, as Redis computes them (object.c's
// getMemoryOverheadData, server.c's genRedisInfoString).
void RecomputeDerived(Section* merged) {
  const FieldIndex index(merged);
  if (merged->name == "memory") {
    for (Field& f : merged->fields) {
      const size_t suffix = f.first.rfind("_human");
      if (suffix == std::string::npos || suffix + 6 != f.first.size()) continue;
      const Field* base = index.Find(std::string_view(f.first).substr(0, suffix));
      int64_t bytes;
      if (base != nullptr && absl::SimpleAtoi(base->second, &bytes)) f.second = BytesToHuman(bytes);
    }
    index.SetRatio("used_memory_peak_perc", "used_memory", "used_memory_peak", 100, "%");
    double used, startup;
    Field* dataset_perc = index.Find("used_memory_dataset_perc");
    if (dataset_perc != nullptr && index.Number("used_memory", &used) &&
        index.Number("used_memory_startup", &startup)) {
      double dataset = 0;
      index.Number("used_memory_dataset", &dataset);
      const double net = used > startup ? used - startup : 1;
      dataset_perc->second = absl::StrCat(FormatDecimal(dataset * 100 / net, 2), "%");
    }
    index.SetRatio("allocator_frag_ratio", "allocator_active", "allocator_allocated", 1, "");
    index.SetRatio("allocator_rss_ratio", "allocator_resident", "allocator_active", 1, "");
    index.SetRatio("rss_overhead_ratio", "used_memory_rss", "allocator_resident", 1, "");
    index.SetRatio("mem_fragmentation_ratio", "used_memory_rss", "used_memory", 1, "");
  } else if (merged->name == "persistence") {
    index.SetRatio("current_fork_perc", "current_save_keys_processed", "current_save_keys_total",
                   100, "", "0.00");
    index.SetRatio("loading_loaded_perc", "loading_loaded_bytes", "loading_total_bytes", 100, "",
                   "0.00");
  }
}

// Folds the same section of the other masters into `merged` (the first master's copy).
void MergeSection(Section* merged, const std::vector<const Section*>& others) {
  const InfoMerge section_rule = InfoMergeOf(merged->name, "");  // no field: the default
  const bool by_entry = section_rule == InfoMerge::kSumPerEntry ||
                        section_rule == InfoMerge::kMaxPerEntry ||
                        section_rule == InfoMerge::kKeyspace;
  for (const Section* other : others) {
    for (const Field& field : other->fields) {
      Field* mine = nullptr;
      for (Field& f : merged->fields) {
        if (f.first == field.first) mine = &f;
      }
      if (mine == nullptr) {
        if (by_entry) merged->fields.push_back(field);
        continue;
      }
      Combine(InfoMergeOf(merged->name, field.first), &mine->second, field.second);
    }
  }
  RecomputeDerived(merged);
}

void Set(Section* section, const std::string& key, const std::string& value) {
  for (Field& f : section->fields) {
    if (f.first == key) f.second = value;
  }
}

// What makes the merged text read as one standalone server run by the proxy.
void ApplyOverrides(Section* section, const InfoOverrides& o) {
  if (section->name == "server") {
    Set(section, "redis_mode", "standalone");
    Set(section, "os", o.os);
    Set(section, "process_id", absl::StrCat(o.process_id));
    Set(section, "tcp_port", absl::StrCat(o.tcp_port));
    Set(section, "uptime_in_seconds", absl::StrCat(o.uptime_seconds));
    Set(section, "uptime_in_days", absl::StrCat(o.uptime_seconds / 86400));
    Set(section, "executable", "");
    Set(section, "config_file", "");
  } else if (section->name == "clients") {
    Set(section, "connected_clients", absl::StrCat(o.connected_clients));
    Set(section, "cluster_connections", "0");
    Set(section, "maxclients", absl::StrCat(o.maxclients));
  } else if (section->name == "stats") {
    Set(section, "total_connections_received", absl::StrCat(o.total_connections_received));
    Set(section, "rejected_connections", absl::StrCat(o.rejected_connections));
  } else if (section->name == "replication") {
    std::vector<Field> kept;
    for (Field& f : section->fields) {
      const bool replica_line =
          f.first.rfind("slave", 0) == 0 && f.first.size() > 5 && absl::ascii_isdigit(f.first[5]);
      if (!replica_line) kept.push_back(std::move(f));
    }
    section->fields = std::move(kept);
    Set(section, "role", "master");
    Set(section, "connected_slaves", "0");
  } else if (section->name == "cluster") {
    Set(section, "cluster_enabled", "0");
  }
}

}  // namespace

std::string LowestRedisVersion(const std::vector<std::string_view>& texts) {
  std::string lowest;
  for (std::string_view text : texts) {
    for (const Section& section : ParseSections(text)) {
      for (const Field& f : section.fields) {
        if (f.first == "redis_version" && (lowest.empty() || VersionLess(f.second, lowest))) {
          lowest = f.second;
        }
      }
    }
  }
  return lowest;
}

bool InfoWantsProxySection(const std::vector<std::string_view>& args) {
  if (args.size() < 2) return true;
  for (size_t i = 1; i < args.size(); ++i) {
    for (const char* name : {"default", "all", "everything", "proxy"}) {
      if (EqualsIgnoreCase(args[i], name)) return true;
    }
  }
  return false;
}

std::string MergeInfo(const std::vector<std::string_view>& texts, const InfoOverrides& overrides) {
  std::vector<std::vector<Section>> parsed;
  for (std::string_view text : texts) parsed.push_back(ParseSections(text));
  std::string out = overrides.proxy_section;
  if (parsed.empty()) return out;
  for (Section& section : parsed[0]) {
    std::vector<const Section*> others;
    for (size_t i = 1; i < parsed.size(); ++i) {
      for (const Section& s : parsed[i]) {
        if (s.name == section.name) others.push_back(&s);
      }
    }
    MergeSection(&section, others);
    ApplyOverrides(&section, overrides);
    if (!out.empty()) out += "\r\n";
    if (!section.header.empty()) absl::StrAppend(&out, section.header, "\r\n");
    for (const Field& f : section.fields) absl::StrAppend(&out, f.first, ":", f.second, "\r\n");
  }
  return out;
}

}  // namespace slotplane::dataplane
