#include "dataplane/command/command_class.h"

#include <string_view>

namespace slotplane::dataplane {

const char* CommandClassName(CommandClass command_class) {
  switch (command_class) {
    case CommandClass::kRead:
      return "read";
    case CommandClass::kWrite:
      return "write";
    case CommandClass::kMultiKey:
      return "multi_key";
    case CommandClass::kFanOut:
      return "fan_out";
    case CommandClass::kBlocking:
      return "blocking";
    case CommandClass::kPubSub:
      return "pubsub";
    case CommandClass::kTransaction:
      return "transaction";
    case CommandClass::kLocal:
      return "local";
    case CommandClass::kOther:
    case CommandClass::kCount:
      break;
  }
  return "other";
}

CommandClass ClassOf(const CommandInfo& cmd) {
  switch (cmd.route) {
    case RouteClass::kLocal:
      return CommandClass::kLocal;
    case RouteClass::kAllMasters:
    case RouteClass::kAllNodes:
      return CommandClass::kFanOut;
    case RouteClass::kUnsupported:
      return CommandClass::kOther;
    case RouteClass::kSlot:
    case RouteClass::kAnyNode:
    case RouteClass::kPrivate:
      break;
  }
  if (cmd.flags & kCmdBlocking) return CommandClass::kBlocking;
  if (cmd.flags & kCmdPubsub) return CommandClass::kPubSub;
  if (cmd.route == RouteClass::kPrivate) {
    // WAIT waits for replicas on a private connection, as the blocking commands do.
    return std::string_view(cmd.name) == "wait" ? CommandClass::kBlocking
                                                : CommandClass::kTransaction;
  }
  // Several keys: a key range (MGET, MSET, DEL), or keys only the specs find (EVAL, ZUNION).
  if (cmd.last_key < 0 || cmd.last_key > cmd.first_key || (cmd.flags & kCmdMovableKeys)) {
    return CommandClass::kMultiKey;
  }
  return (cmd.flags & kCmdWrite) ? CommandClass::kWrite : CommandClass::kRead;
}

}  // namespace slotplane::dataplane
