#include "dataplane/stateful/blocking_call.h"

#include <charconv>

#include "dataplane/command/client_command.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/request_encoder.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kClientId = "*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n";

}  // namespace

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

size_t BlockingCall::AppendRequest(std::string* out) {
  if (conn()->node_client_id != 0) return PrivateCall::AppendRequest(out);
  out->append(kClientId.data(), kClientId.size());
  return 1 + PrivateCall::AppendRequest(out);
}

void BlockingCall::OnLeadingFrame(size_t /*index*/, std::string_view frame) {
  // CLIENT ID's ":<id>" (an error, e.g. an ACL denial, leaves the id unknown).
  int64_t id = 0;
  if (frame.size() > 3 && frame[0] == ':' &&
      std::from_chars(frame.data() + 1, frame.data() + frame.size() - 2, id).ec == std::errc()) {
    conn()->node_client_id = id;
  }
}

bool BlockingCall::Unblock(bool error) {
  // Blocked on the node: written, and only the command's own reply still expected.
  if (conn() == nullptr || frames_left() != 1 || conn()->node_client_id == 0) return false;
  BackendConn* side = worker()->router().ForAddress(conn()->address());
  if (side == nullptr) return false;
  const std::string id = std::to_string(conn()->node_client_id);
  Request* request = worker()->pool().Acquire();
  request->pinned = true;
  request->slot = slot() >= 0 ? static_cast<uint16_t>(slot()) : 0;
  EncodeCommand({"CLIENT", "UNBLOCK", id, error ? "ERROR" : "TIMEOUT"}, &request->command);
  // Nobody waits for the node's :1 (no sink): the blocked command's own reply follows it.
  worker()->forwarder().Forward(request, side);
  return true;
}

}  // namespace slotplane::dataplane
