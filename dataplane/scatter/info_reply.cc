#include "dataplane/scatter/info_reply.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

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

// "calls=3,usec=10,usec_per_call=3.33" style values: integer subfields summed.
std::string AddSubfields(const std::string& total, std::string_view value) {
  std::vector<std::pair<std::string, std::string>> parts;
  for (absl::string_view item : absl::StrSplit(total, ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    parts.push_back(std::move(kv));
  }
  for (absl::string_view item : absl::StrSplit(AbslView(value), ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, absl::MaxSplits('=', 1));
    for (auto& part : parts) {
      if (part.first == kv.first) AddNumber(&part.second, kv.second, false);
    }
  }
  int64_t calls = -1, usec = -1;
  for (const auto& part : parts) {
    if (part.first == "calls") absl::SimpleAtoi(part.second, &calls);
    if (part.first == "usec") absl::SimpleAtoi(part.second, &usec);
  }
  std::string out;
  for (const auto& part : parts) {
    std::string v = part.second;
    if (part.first == "usec_per_call" && calls > 0 && usec >= 0) {
      v = FormatDecimal(static_cast<double>(usec) / static_cast<double>(calls), 2);
    }
    absl::StrAppend(&out, out.empty() ? "" : ",", part.first, "=", v);
  }
  return out;
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

// Folds the same section of the other masters into `merged` (the first master's copy).
void MergeSection(Section* merged, const std::vector<const Section*>& others) {
  const std::string& name = merged->name;
  const bool sum_all = name == "stats" || name == "cpu";
  const bool sum_integers = name == "memory" || name == "clients";
  const bool by_entry = name == "commandstats" || name == "errorstats" || name == "keyspace";
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
      if (sum_all || sum_integers) {
        AddNumber(&mine->second, field.second, sum_all);
      } else if (name == "keyspace") {
        mine->second = AddKeyspace(mine->second, field.second);
      } else if (by_entry) {
        mine->second = AddSubfields(mine->second, field.second);
      }
    }
  }
  if (name == "memory") {
    for (Field& f : merged->fields) {
      const size_t suffix = f.first.rfind("_human");
      if (suffix == std::string::npos || suffix + 6 != f.first.size()) continue;
      for (const Field& base : merged->fields) {
        int64_t bytes;
        if (base.first == f.first.substr(0, suffix) && absl::SimpleAtoi(base.second, &bytes)) {
          f.second = BytesToHuman(bytes);
        }
      }
    }
  }
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
    Set(section, "maxclients", absl::StrCat(o.maxclients));
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
