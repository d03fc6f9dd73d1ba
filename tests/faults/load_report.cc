// LoadReport's renderings (declared in fault_load.h): one JSON line for machines, a few lines of
// text for people.

#include <cstdio>
#include <sstream>
#include <string>

#include "tests/faults/fault_load.h"

namespace slotplane::faults {
namespace {

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

double Millis(int64_t micros) { return static_cast<double>(micros) / 1000.0; }

}  // namespace

std::string LoadReport::ToJson(const std::string& name) const {
  std::ostringstream out;
  out << "{\"name\":" << JsonString(name) << ",\"seconds\":" << seconds
      << ",\"commands\":" << commands << ",\"ok\":" << ok << ",\"errors\":" << errors
      << ",\"errors_by_kind\":{";
  bool first = true;
  for (const auto& [kind, count] : errors_by_kind) {
    out << (first ? "" : ",") << JsonString(kind) << ":" << count;
    first = false;
  }
  out << "},\"first_error\":" << JsonString(first_error) << ",\"redirects\":" << redirects
      << ",\"connects\":" << connects << ",\"p50_ms\":" << Millis(p50_micros)
      << ",\"p99_ms\":" << Millis(p99_micros) << ",\"max_ms\":" << Millis(max_micros)
      << ",\"max_stall_ms\":" << Millis(max_stall_micros)
      << ",\"acked_increments\":" << checks.acked_increments << ",\"lost_writes\":" << lost_writes()
      << ",\"lost_keys\":" << checks.lost_keys << ",\"backwards_acks\":" << checks.backwards_acks
      << ",\"unexpected_increments\":" << checks.unexpected_increments
      << ",\"stale_reads\":" << checks.stale_reads
      << ",\"backwards_reads\":" << checks.backwards_reads
      << ",\"unverified_keys\":" << checks.unverified_keys << "}";
  return out.str();
}

std::string LoadReport::ToText(const std::string& name) const {
  std::ostringstream out;
  out << name << ": " << commands << " commands in " << seconds << " s, " << ok << " ok, " << errors
      << " errors\n";
  for (const auto& [kind, count] : errors_by_kind) out << "  " << count << "  " << kind << "\n";
  if (!first_error.empty()) out << "  first error: " << first_error << "\n";
  out << "  latency p50 " << Millis(p50_micros) << " ms, p99 " << Millis(p99_micros) << " ms, max "
      << Millis(max_micros) << " ms; longest stall " << Millis(max_stall_micros) << " ms\n";
  out << "  acknowledged increments " << checks.acked_increments << ", lost " << lost_writes()
      << " (keys " << checks.lost_keys << ", backwards acks " << checks.backwards_acks
      << "), unexpected increments " << checks.unexpected_increments << ", stale reads "
      << checks.stale_reads << ", backwards reads " << checks.backwards_reads
      << ", unverified keys " << checks.unverified_keys << "\n";
  if (redirects > 0 || connects > 0) {
    out << "  redirects followed " << redirects << ", connections made " << connects << "\n";
  }
  return out.str();
}

}  // namespace slotplane::faults
