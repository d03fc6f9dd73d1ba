#include "dataplane/command/key_extractor.h"

#include <climits>
#include <cstring>

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace slotplane::dataplane {
namespace {

using Args = std::vector<std::string_view>;

// What applying one key spec to the arguments gave.
enum class SpecOutcome {
  kDone,        // its keys (possibly none) were appended
  kBadArgs,     // the arguments cannot hold keys this way: Redis will reply with an error
  kUnresolved,  // the spec cannot say (unknown type, or INCOMPLETE): use the command's fallback
};

// ASCII case-insensitive equality, as Redis's strcasecmp. (This Abseil's string_view is its own
// type, so absl::EqualsIgnoreCase does not take std::string_view.)
bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Redis's string2ll restricted to what a key count may be: a non-negative int written without
// sign, spaces or leading zeros.
bool ParseKeyCount(std::string_view text, int* count) {
  if (text.empty() || text.size() > 10 || (text[0] == '0' && text.size() > 1)) return false;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > INT_MAX) return false;
  *count = static_cast<int>(value);
  return true;
}

// Where the spec's keys start, or 0 when its keyword is absent (the spec then has no keys). Walks
// exactly as Redis does: forwards from `startfrom` up to the last argument, which is never
// examined, or, for a negative `startfrom`, backwards from argc + startfrom down to argument 2.
int FindKeyword(const KeySpec& spec, const Args& args) {
  const int argc = static_cast<int>(args.size());
  const bool forward = spec.startfrom > 0;
  const int start = forward ? spec.startfrom : argc + spec.startfrom;
  const int end = forward ? argc - 1 : 1;
  const int step = start <= end ? 1 : -1;
  for (int i = start; i != end; i += step) {
    if (i >= argc || i < 1) break;
    if (EqualsNoCase(args[i], spec.keyword)) return i + 1;
  }
  return 0;
}

// Appends the keys a spec finds from argument `first` on.
SpecOutcome FindKeys(const KeySpec& spec, const Args& args, int first,
                     std::vector<int>* positions) {
  const int argc = static_cast<int>(args.size());
  int last = 0;
  if (spec.keystep < 1) return SpecOutcome::kUnresolved;  // not a valid spec
  if (spec.find == KeySpec::Find::kRange) {
    if (spec.lastkey >= 0) {
      last = first + spec.lastkey;
    } else if (spec.limit == 0) {
      last = argc + spec.lastkey;
    } else {
      last = first + ((argc - first) / spec.limit + spec.lastkey);
    }
  } else if (spec.find == KeySpec::Find::kKeynum) {
    int count = 0;
    if (first + spec.keynumidx >= argc) return SpecOutcome::kBadArgs;
    if (!ParseKeyCount(args[first + spec.keynumidx], &count) || count > argc) {
      return SpecOutcome::kBadArgs;  // (the bound also keeps the arithmetic below in range)
    }
    if (count == 0) return SpecOutcome::kDone;  // e.g. EVAL script 0
    first += spec.firstkey;
    last = first + (count - 1) * spec.keystep;
  } else {
    return SpecOutcome::kUnresolved;
  }
  if (first >= argc || last >= argc || last < first) return SpecOutcome::kBadArgs;
  for (int i = first; i <= last; i += spec.keystep) positions->push_back(i);
  return spec.incomplete ? SpecOutcome::kUnresolved : SpecOutcome::kDone;
}

SpecOutcome ApplySpec(const KeySpec& spec, const Args& args, std::vector<int>* positions) {
  int first = 0;
  if (spec.begin == KeySpec::Begin::kIndex) {
    first = spec.index;
  } else if (spec.begin == KeySpec::Begin::kKeyword && spec.keyword != nullptr) {
    first = FindKeyword(spec, args);
    if (first == 0) return SpecOutcome::kDone;
  } else {
    return SpecOutcome::kUnresolved;
  }
  return FindKeys(spec, args, first, positions);
}

// --- Fallbacks: the commands whose specs cannot say where all keys are. Each mirrors the
// getkeys procedure Redis uses for that command.

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dest].
// The last STORE wins. BY and GET patterns name keys only through the sorted values: not here.
bool SortKeys(const Args& args, std::vector<int>* positions) {
  const int argc = static_cast<int>(args.size());
  if (argc < 2) return false;
  int store = 0;
  for (int i = 2; i < argc; ++i) {
    if (EqualsNoCase(args[i], "limit")) {
      i += 2;
    } else if (EqualsNoCase(args[i], "get") || EqualsNoCase(args[i], "by")) {
      i += 1;
    } else if (EqualsNoCase(args[i], "store") && i + 1 < argc) {
      store = i + 1;  // not skipped: Redis examines the destination like any other argument
    }
  }
  positions->push_back(1);
  if (store != 0) positions->push_back(store);
  return true;
}

// SORT_RO key [BY pattern] [LIMIT ...] [GET pattern ...] [ASC|DESC] [ALPHA]: the one key.
bool SortRoKeys(const Args& args, std::vector<int>* positions) {
  if (args.size() < 2) return false;
  positions->push_back(1);
  return true;
}

// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS key ...]
bool MigrateKeys(const Args& args, std::vector<int>* positions) {
  const int argc = static_cast<int>(args.size());
  if (argc < 6) return false;
  int first = 3;
  int count = 1;
  for (int i = 6; i < argc; ++i) {
    if (EqualsNoCase(args[i], "keys")) {
      if (!args[3].empty()) return false;  // Redis rejects KEYS with a key argument
      first = i + 1;
      count = argc - first;
      break;
    }
    if (EqualsNoCase(args[i], "auth")) {
      i += 1;
    } else if (EqualsNoCase(args[i], "auth2")) {
      i += 2;
    }
  }
  for (int i = 0; i < count; ++i) positions->push_back(first + i);
  return true;
}

struct Fallback {
  const char* name;
  bool (*extract)(const Args& args, std::vector<int>* positions);
};

constexpr Fallback kFallbacks[] = {
    {"migrate", MigrateKeys},
    {"sort", SortKeys},
    {"sort_ro", SortRoKeys},
};

// False when the command has no fallback: its keys are unknown and Redis must sort it out.
bool ExtractWithFallback(const CommandInfo& cmd, const Args& args, std::vector<int>* positions) {
  positions->clear();
  for (const Fallback& fallback : kFallbacks) {
    if (std::strcmp(cmd.name, fallback.name) == 0) return fallback.extract(args, positions);
  }
  return false;
}

}  // namespace

bool ExtractKeyPositions(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                         std::vector<int>* positions) {
  positions->clear();
  for (int i = 0; i < cmd.num_key_specs; ++i) {
    switch (ApplySpec(cmd.key_specs[i], args, positions)) {
      case SpecOutcome::kDone:
        break;
      case SpecOutcome::kBadArgs:
        positions->clear();
        return false;
      case SpecOutcome::kUnresolved:
        return ExtractWithFallback(cmd, args, positions);
    }
  }
  return true;
}

namespace {

// SET key value [NX|XX] [GET] [EX ...]: GET anywhere from the third argument on (setGetKeys).
uint8_t SetKeyAccess(const Args& args) {
  for (size_t i = 3; i < args.size(); ++i) {
    if (EqualsNoCase(args[i], "get")) return kKeyAclRead | kKeyAclWrite;
  }
  return kKeyAclWrite;
}

// BITFIELD key [GET type offset] [SET ...] [INCRBY ...] [OVERFLOW ...]: read-only when every
// operation is a GET (bitfieldGetKeys; a malformed call counts as a write).
uint8_t BitfieldKeyAccess(const Args& args) {
  const size_t argc = args.size();
  for (size_t i = 2; i < argc; ++i) {
    const size_t remaining = argc - i - 1;
    if (EqualsNoCase(args[i], "get") && remaining >= 2) {
      i += 2;
    } else if (EqualsNoCase(args[i], "overflow") && remaining >= 1) {
      i += 1;
    } else {
      return kKeyAclRead | kKeyAclWrite;
    }
  }
  return kKeyAclRead;
}

// The access of the keys a fallback extractor found (their specs are not used).
void FallbackAccess(const CommandInfo& cmd, const std::vector<int>& positions,
                    std::vector<uint8_t>* access) {
  const std::string_view name(cmd.name);
  for (size_t i = 0; i < positions.size(); ++i) {
    uint8_t a = kKeyAclRead | kKeyAclWrite;  // MIGRATE moves the keys away
    if (name == "sort" || name == "sort_ro") a = i == 0 ? kKeyAclRead : kKeyAclWrite;  // STORE
    access->push_back(a);
  }
}

}  // namespace

bool ExtractKeysWithAccess(const CommandInfo& cmd, const std::vector<std::string_view>& args,
                           std::vector<int>* positions, std::vector<uint8_t>* access) {
  positions->clear();
  access->clear();
  for (int i = 0; i < cmd.num_key_specs; ++i) {
    const KeySpec& spec = cmd.key_specs[i];
    switch (ApplySpec(spec, args, positions)) {
      case SpecOutcome::kDone:
        break;
      case SpecOutcome::kBadArgs:
        positions->clear();
        access->clear();
        return false;
      case SpecOutcome::kUnresolved:
        access->clear();
        if (!ExtractWithFallback(cmd, args, positions)) return false;
        FallbackAccess(cmd, *positions, access);
        return true;
    }
    uint8_t a = spec.acl;
    if (a & kKeyAclVariable) {
      const std::string_view name(cmd.name);
      if (name == "set") a = SetKeyAccess(args);
      if (name == "bitfield") a = BitfieldKeyAccess(args);
    }
    access->resize(positions->size(), a);
  }
  return true;
}

bool HasBlockOption(const std::vector<std::string_view>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (EqualsIgnoreCase(args[i], "STREAMS")) return false;  // keys and ids follow
    if (EqualsIgnoreCase(args[i], "BLOCK")) return true;
  }
  return false;
}

}  // namespace slotplane::dataplane
