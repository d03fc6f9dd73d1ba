#include "dataplane/stateful/blocking_call.h"

#include "dataplane/command/client_command.h"
#include "dataplane/core/worker_context.h"

namespace slotplane::dataplane {

bool BlockingCall::Start(int slot, const ClientCommand& command) {
  if (slot == kCrossSlot) {
    ReplyError(ErrorKind::kCrossSlot, errors::CrossSlot());
    return false;
  }
  worker()->stats().blocking_commands.Add();
  Prepare(slot);
  SetCommand(command);
  return true;
}

}  // namespace slotplane::dataplane
