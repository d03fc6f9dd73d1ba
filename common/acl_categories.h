#pragma once

#include <cstdint>
#include <iterator>
#include <string_view>

#include "common/strings.h"

namespace slotplane {

// Redis 7.0's ACL command categories (`ACL CAT`), in its order. Bit i of a command's category
// mask is kAclCategoryNames[i]; scripts/gen_command_table.py writes the masks with the names
// below, so the order here is the one contract between the generated table and ACL rules.
enum AclCategory : uint32_t {
  kAclKeyspace = 1u << 0,
  kAclRead = 1u << 1,
  kAclWrite = 1u << 2,
  kAclSet = 1u << 3,
  kAclSortedset = 1u << 4,
  kAclList = 1u << 5,
  kAclHash = 1u << 6,
  kAclString = 1u << 7,
  kAclBitmap = 1u << 8,
  kAclHyperloglog = 1u << 9,
  kAclGeo = 1u << 10,
  kAclStream = 1u << 11,
  kAclPubsub = 1u << 12,
  kAclAdmin = 1u << 13,
  kAclFast = 1u << 14,
  kAclSlow = 1u << 15,
  kAclBlocking = 1u << 16,
  kAclDangerous = 1u << 17,
  kAclConnection = 1u << 18,
  kAclTransaction = 1u << 19,
  kAclScripting = 1u << 20,
};

inline constexpr std::string_view kAclCategoryNames[] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting",
};

// The bit of category `name` (case-insensitive, without '@'), or 0 when Redis has no such
// category. "all" is not a category: callers handle `+@all` themselves.
inline uint32_t AclCategoryBit(std::string_view name) {
  for (size_t i = 0; i < std::size(kAclCategoryNames); ++i) {
    if (EqualsIgnoreCase(name, kAclCategoryNames[i])) return 1u << i;
  }
  return 0;
}

}  // namespace slotplane
