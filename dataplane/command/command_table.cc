#include "dataplane/command/command_table.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "absl/strings/ascii.h"

namespace slotplane::dataplane {

// Mirrors CommandInfo minus `route`: the generated data carries no slotplane policy.
struct CommandData {
  const char* name;
  int arity;
  uint32_t flags;
  int first_key;
  int last_key;
  int key_step;
  const KeySpec* key_specs;
  int num_key_specs;
  const CommandData* subcommands;
  int num_subcommands;
  const char* group;
  uint32_t acl_categories;
};

namespace {

using Begin = KeySpec::Begin;
using Find = KeySpec::Find;

#include "dataplane/command/command_table_data.inc"

// slotplane's own commands: answered by the proxy, unknown to Redis (routing.cc sends them to
// kLocal). The session parses their subcommands itself.
constexpr CommandData kSlotplaneCommands[] = {
    {"proxy", -2, kCmdNoscript | kCmdLoading | kCmdStale, 0, 0, 0, nullptr, 0, nullptr, 0, "server",
     kAclSlow},
};

// Subcommands newer than the generated table that slotplane answers itself: Redis 7.2's CLIENT
// SETINFO, which client libraries send at connect. Findable by FindSubcommand(); not listed in
// their parent's `subcommands`.
constexpr CommandData kSlotplaneSubcommands[] = {
    {"client|setinfo", -4, kCmdNoscript | kCmdLoading | kCmdStale, 0, 0, 0, nullptr, 0, nullptr, 0,
     "connection", kAclSlow | kAclConnection},
};

// The longest name the table may hold (checked at start-up); lookups of longer names fail at once.
constexpr size_t kMaxNameLength = std::max(kMaxGeneratedNameLength, sizeof("proxy") - 1);

// See CommandInfo::fixed_key.
int FixedKeyIndex(const CommandData& data) {
  if (data.num_key_specs != 1) return 0;
  const KeySpec& spec = data.key_specs[0];
  bool fixed = spec.begin == KeySpec::Begin::kIndex && spec.find == KeySpec::Find::kRange &&
               spec.lastkey == 0 && !spec.incomplete;
  return fixed ? spec.index : 0;
}

// The generated data plus the route that routing.cc's policy gives it and its handler id.
CommandInfo MakeInfo(const CommandData& data, const CommandInfo* subcommands,
                     const CommandInfo* parent) {
  CommandInfo info{};
  info.name = data.name;
  info.arity = data.arity;
  info.flags = data.flags;
  info.first_key = data.first_key;
  info.last_key = data.last_key;
  info.key_step = data.key_step;
  info.key_specs = data.key_specs;
  info.num_key_specs = data.num_key_specs;
  info.subcommands = subcommands;
  info.num_subcommands = data.num_subcommands;
  info.group = data.group;
  info.route = RouteClassFor(data.name, data.num_key_specs > 0);
  info.handler = HandlerFor(data.name);
  info.parent = parent;
  info.fixed_key = FixedKeyIndex(data);
  info.acl_categories = data.acl_categories;
  return info;
}

size_t CountSubcommands() {
  size_t count = 0;
  for (const CommandData& data : kGeneratedCommands) count += data.num_subcommands;
  for (const CommandData& data : kSlotplaneCommands) count += data.num_subcommands;
  return count + std::size(kSlotplaneSubcommands);
}

constexpr size_t kLetters = 26;

// 'A'..'Z' and 'a'..'z' to 0..25, any other byte to kLetters or more (command names start with a
// letter).
size_t LetterIndex(char c) {
  return static_cast<size_t>(static_cast<unsigned char>(c) | 0x20) - static_cast<size_t>('a');
}

// True when the `length` bytes at `name` equal those at `lower` (a table name, all lower case)
// ignoring ASCII case. The caller knows `lower` has at least `length` bytes.
bool EqualsIgnoringCase(const char* name, const char* lower, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(name[i])) != lower[i]) return false;
  }
  return true;
}

// True when subcommand `sub` (named "parent|sub") is `name` ignoring case; `prefix` is the length
// of "parent|".
bool SubcommandIs(const CommandInfo& sub, size_t prefix, std::string_view name) {
  const char* sub_name = sub.name + prefix;
  return std::strlen(sub_name) == name.size() &&
         EqualsIgnoringCase(name.data(), sub_name, name.size());
}

// A broken generated file is a build defect, not a runtime condition: fail at start-up.
void CheckTable(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

const CommandTable& CommandTable::Get() {
  static const CommandTable* const table = new CommandTable();  // never destroyed
  return *table;
}

const char* CommandTable::RedisVersion() { return kGeneratedFromRedisVersion; }

CommandTable::CommandTable() {
  commands_.reserve(std::size(kGeneratedCommands) + std::size(kSlotplaneCommands));
  subcommands_.reserve(CountSubcommands());
  for (const CommandData& data : kGeneratedCommands) Add(data);
  for (const CommandData& data : kSlotplaneCommands) Add(data);
  for (const CommandData& sub : kSlotplaneSubcommands) {
    std::string_view name(sub.name);
    auto parent = by_name_.find(name.substr(0, name.find('|')));
    subcommands_.push_back(
        MakeInfo(sub, nullptr, parent == by_name_.end() ? nullptr : parent->second));
    CheckTable(subcommand_by_name_.emplace(sub.name, &subcommands_.back()).second);
    max_subcommand_name_length_ = std::max(max_subcommand_name_length_, std::strlen(sub.name));
    extra_subcommands_.push_back(&subcommands_.back());
  }

  all_.reserve(commands_.size());
  for (const CommandInfo& info : commands_) all_.push_back(&info);
  by_id_.reserve(commands_.size() + subcommands_.size());
  for (CommandInfo& info : commands_) {
    info.id = static_cast<uint16_t>(by_id_.size());
    by_id_.push_back(&info);
  }
  for (CommandInfo& info : subcommands_) {
    info.id = static_cast<uint16_t>(by_id_.size());
    by_id_.push_back(&info);
  }
  std::sort(all_.begin(), all_.end(), [](const CommandInfo* a, const CommandInfo* b) {
    return std::strcmp(a->name, b->name) < 0;
  });
  CheckTable(max_name_length_ <= kMaxNameLength && max_subcommand_name_length_ <= kMaxNameLength);
  IndexNames();
}

size_t CommandTable::BucketOf(size_t length, char first_letter) {
  return length * kLetters + LetterIndex(first_letter);
}

// Sorts the top-level commands by (length, first letter) and records each bucket's range.
void CommandTable::IndexNames() {
  by_length_and_letter_ = all_;
  auto bucket_of = [](const CommandInfo* info) {
    return BucketOf(std::strlen(info->name), info->name[0]);
  };
  std::stable_sort(
      by_length_and_letter_.begin(), by_length_and_letter_.end(),
      [&](const CommandInfo* a, const CommandInfo* b) { return bucket_of(a) < bucket_of(b); });
  buckets_.assign((max_name_length_ + 1) * kLetters, NameBucket{});
  CheckTable(by_length_and_letter_.size() <= UINT16_MAX);
  for (size_t i = 0; i < by_length_and_letter_.size(); ++i) {
    const CommandInfo* info = by_length_and_letter_[i];
    CheckTable(info->name[0] != '\0' && LetterIndex(info->name[0]) < kLetters);
    NameBucket& bucket = buckets_[bucket_of(info)];
    if (bucket.begin == bucket.end) bucket.begin = static_cast<uint16_t>(i);
    bucket.end = static_cast<uint16_t>(i + 1);
  }
}

void CommandTable::Add(const CommandData& data) {
  const CommandInfo* subcommands = subcommands_.data() + subcommands_.size();
  // commands_ is reserved to its final size: the parent's address is known before it is added.
  const CommandInfo* parent = commands_.data() + commands_.size();
  for (int i = 0; i < data.num_subcommands; ++i) {
    const CommandData& sub = data.subcommands[i];
    subcommands_.push_back(MakeInfo(sub, nullptr, parent));
    CheckTable(subcommand_by_name_.emplace(sub.name, &subcommands_.back()).second);
    max_subcommand_name_length_ = std::max(max_subcommand_name_length_, std::strlen(sub.name));
  }
  commands_.push_back(
      MakeInfo(data, data.num_subcommands > 0 ? subcommands : nullptr, /*parent=*/nullptr));
  CheckTable(by_name_.emplace(data.name, &commands_.back()).second);
  max_name_length_ = std::max(max_name_length_, std::strlen(data.name));
}

// Hot path (every request): no hashing, no copy; a bucket holds at most a handful of names, which
// usually differ in their second byte.
const CommandInfo* CommandTable::Find(std::string_view name) const {
  if (name.empty() || name.size() > max_name_length_) return nullptr;
  const size_t letter = LetterIndex(name[0]);
  if (letter >= kLetters) return nullptr;
  const NameBucket& bucket = buckets_[name.size() * kLetters + letter];
  for (uint16_t i = bucket.begin; i < bucket.end; ++i) {
    const CommandInfo* candidate = by_length_and_letter_[i];
    if (EqualsIgnoringCase(name.data(), candidate->name, name.size())) return candidate;
  }
  return nullptr;
}

// A container has at most a few dozen subcommands: a scan of its own beats hashing the name.
const CommandInfo* CommandTable::FindSubcommand(const CommandInfo& parent,
                                                std::string_view name) const {
  if (parent.num_subcommands == 0) return nullptr;
  const size_t prefix = std::strlen(parent.name) + 1;  // "parent|"
  for (int i = 0; i < parent.num_subcommands; ++i) {
    if (SubcommandIs(parent.subcommands[i], prefix, name)) return &parent.subcommands[i];
  }
  for (const CommandInfo* extra : extra_subcommands_) {
    if (extra->parent == &parent && SubcommandIs(*extra, prefix, name)) return extra;
  }
  return nullptr;
}

}  // namespace slotplane::dataplane
