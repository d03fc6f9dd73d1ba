#include "dataplane/command/command_replies.h"

#include <algorithm>
#include <cstddef>
#include <iterator>

namespace slotplane::dataplane {
namespace {

struct CommandReplyData {
  const char* name;
  const char* info;
  size_t info_size;
  const char* docs;
  size_t docs_size;
  const char* info3;
  size_t info3_size;
  const char* docs3;
  size_t docs3_size;
  const char* acl_categories;
};

#include "dataplane/command/command_replies_data.inc"

std::vector<CommandReplies> Build() {
  std::vector<CommandReplies> all;
  all.reserve(std::size(kGeneratedCommandReplies));
  for (const CommandReplyData& d : kGeneratedCommandReplies) {
    all.push_back({d.name, std::string_view(d.info, d.info_size),
                   std::string_view(d.docs, d.docs_size), std::string_view(d.info3, d.info3_size),
                   std::string_view(d.docs3, d.docs3_size), d.acl_categories});
  }
  return all;
}

}  // namespace

const std::vector<CommandReplies>& AllCommandReplies() {
  static const std::vector<CommandReplies>* const all = new std::vector<CommandReplies>(Build());
  return *all;
}

const CommandReplies* FindCommandReplies(std::string_view lower_name) {
  const std::vector<CommandReplies>& all = AllCommandReplies();
  auto it = std::lower_bound(
      all.begin(), all.end(), lower_name,
      [](const CommandReplies& entry, std::string_view name) { return entry.name < name; });
  return it != all.end() && it->name == lower_name ? &*it : nullptr;
}

}  // namespace slotplane::dataplane
