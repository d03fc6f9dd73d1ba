#include "dataplane/command/acl_catalog.h"

#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {
namespace {

class TableCatalog : public AclCommandCatalog {
 public:
  Kind Lookup(std::string_view lower_name) const override {
    const CommandTable& table = CommandTable::Get();
    const size_t bar = lower_name.find('|');
    if (bar == std::string_view::npos) {
      const CommandInfo* cmd = table.Find(lower_name);
      if (cmd == nullptr) return Kind::kUnknown;
      return cmd->num_subcommands > 0 ? Kind::kContainer : Kind::kCommand;
    }
    const CommandInfo* parent = table.Find(lower_name.substr(0, bar));
    if (parent == nullptr) return Kind::kUnknown;
    const CommandInfo* sub = table.FindSubcommand(*parent, lower_name.substr(bar + 1));
    return sub != nullptr && sub->parent == parent ? Kind::kSubcommand : Kind::kUnknown;
  }
};

}  // namespace

const AclCommandCatalog& CommandTableAclCatalog() {
  static const TableCatalog* const catalog = new TableCatalog();
  return *catalog;
}

}  // namespace slotplane::dataplane
