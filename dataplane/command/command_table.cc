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

// Lookups copy the lower-cased name into a stack buffer of this size; longer names are unknown
// anyway.
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

// Writes the lower-case form of `name` at `out`; returns the end of what it wrote.
char* LowerInto(std::string_view name, char* out) {
  for (char c : name) *out++ = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
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

const CommandInfo* CommandTable::Find(std::string_view name) const {
  if (name.size() > max_name_length_) return nullptr;
  char buffer[kMaxNameLength];
  const char* end = LowerInto(name, buffer);
  auto it = by_name_.find(std::string_view(buffer, end - buffer));
  return it == by_name_.end() ? nullptr : it->second;
}

const CommandInfo* CommandTable::FindSubcommand(const CommandInfo& parent,
                                                std::string_view name) const {
  if (parent.num_subcommands == 0) return nullptr;
  const size_t parent_length = std::strlen(parent.name);
  if (parent_length + 1 + name.size() > max_subcommand_name_length_) return nullptr;
  // The key is "parent|sub"; parent names are stored in lower case already.
  char buffer[kMaxNameLength];
  std::memcpy(buffer, parent.name, parent_length);
  buffer[parent_length] = '|';
  const char* end = LowerInto(name, buffer + parent_length + 1);
  auto it = subcommand_by_name_.find(std::string_view(buffer, end - buffer));
  return it == subcommand_by_name_.end() ? nullptr : it->second;
}

}  // namespace slotplane::dataplane
