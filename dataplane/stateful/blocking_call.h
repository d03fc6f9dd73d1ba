#pragma once

#include <string_view>
#include <vector>

#include "dataplane/stateful/private_call.h"

namespace slotplane::dataplane {

// A command that may block its connection (BLPOP and the other blocking list and sorted-set
// pops, XREAD/XREADGROUP with BLOCK) on a private connection to its slot's master. It follows
// MOVED, ASK and TRYAGAIN there (a redirect restarts the full timeout). A client that disconnects
// while blocked gets its connection closed: the reply would arrive later. Worker thread only;
// owned by the client's SessionState.
class BlockingCall : public PrivateCall {
 public:
  BlockingCall(WorkerContext* worker, ClientSession* client, Owner* owner)
      : PrivateCall(worker, client, owner) {}

  // The command, its keys in `slot` (a hash slot, kNoKeySlot or kCrossSlot). Returns true when
  // the call goes (the caller calls Begin()); false when the client was answered already.
  bool Start(int slot, const ClientCommand& command);
};

}  // namespace slotplane::dataplane
