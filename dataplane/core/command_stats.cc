#include "dataplane/core/command_stats.h"

namespace slotplane::dataplane {

CommandStats::CommandStats()
    : ok_(CommandTable::Get().size()), errors_(CommandTable::Get().size()) {
  const CommandTable& table = CommandTable::Get();
  keys_.resize(table.Size());
  for (size_t id = 0; id < table.Size(); ++id) {
    const CommandInfo& cmd = table.ById(static_cast<uint16_t>(id));
    keys_[id] = {static_cast<uint16_t>(table.Index(FamilyOf(cmd))), ClassOf(cmd)};
  }
}

}  // namespace slotplane::dataplane
