#include "dataplane/local/proxy_command_table.h"

#include <vector>

#include "dataplane/command/unsupported_reasons.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/scatter/cross_slot.h"

namespace slotplane::dataplane {
namespace {

void AppendRow(const CommandInfo& cmd, bool with_reason, std::string* out) {
  resp::AppendArrayHeader(out, with_reason ? 7 : 6);
  resp::AppendBulk(out, cmd.name);
  resp::AppendInteger(out, cmd.arity);
  resp::AppendInteger(out, cmd.first_key);
  resp::AppendInteger(out, cmd.last_key);
  resp::AppendInteger(out, cmd.key_step);
  resp::AppendBulk(out, CrossSlotSplitter::CanSplit(cmd) ? "split" : RouteClassName(cmd.route));
  if (with_reason) resp::AppendBulk(out, UnsupportedReason(cmd));
}

}  // namespace

bool IsMultiKey(const CommandInfo& cmd) {
  if (cmd.route != RouteClass::kSlot) return false;
  if (cmd.num_key_specs > 1) return true;
  for (int i = 0; i < cmd.num_key_specs; ++i) {
    const KeySpec& spec = cmd.key_specs[i];
    if (spec.find == KeySpec::Find::kKeynum) return true;
    if (spec.find == KeySpec::Find::kRange && spec.lastkey != 0) return true;
  }
  return false;
}

bool ProxyCommandTableReply(std::string_view filter, std::string* out) {
  const bool unsupported = filter == "unsupported";
  const bool crossslots = filter == "crossslots-unsupported";
  if (!filter.empty() && !unsupported && !crossslots) return false;
  std::vector<const CommandInfo*> rows;
  for (const CommandInfo* cmd : CommandTable::Get().All()) {
    std::vector<const CommandInfo*> family{cmd};
    for (int i = 0; i < cmd->num_subcommands; ++i) family.push_back(&cmd->subcommands[i]);
    for (const CommandInfo* c : family) {
      if (unsupported && c->route != RouteClass::kUnsupported) continue;
      if (crossslots && (!IsMultiKey(*c) || CrossSlotSplitter::CanSplit(*c))) continue;
      rows.push_back(c);
    }
  }
  resp::AppendArrayHeader(out, rows.size());
  for (const CommandInfo* c : rows) AppendRow(*c, unsupported, out);
  return true;
}

}  // namespace slotplane::dataplane
