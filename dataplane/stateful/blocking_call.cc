#include "dataplane/stateful/blocking_call.h"

#include "dataplane/core/worker_context.h"

namespace slotplane::dataplane {

bool BlockingCall::Start(int slot, const std::vector<std::string_view>& args,
                         std::string_view raw) {
  if (slot == kCrossSlot) {
    ReplyError(ErrorKind::kCrossSlot, errors::CrossSlot());
    return false;
  }
  worker()->stats().blocking_commands.Add();
  Prepare(slot);
  SetCommand(args, raw);
  return true;
}

}  // namespace slotplane::dataplane
