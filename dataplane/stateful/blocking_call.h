#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/stateful/private_call.h"

namespace slotplane::dataplane {

// A command that may block its connection (BLPOP and the other blocking list and sorted-set
// pops, XREAD/XREADGROUP with BLOCK) on a private connection to its slot's master. It follows
// MOVED, ASK and TRYAGAIN there (a redirect restarts the full timeout). A client that disconnects
// while blocked gets its connection closed: the reply would arrive later. Worker thread only;
// owned by the client's SessionState.
//
// CLIENT UNBLOCK: the first time a connection carries a blocking call, CLIENT ID is written
// before the command (in the same write), so the node's id of the connection is known
// (PrivateConn::node_client_id). Unblock() then sends CLIENT UNBLOCK with that id to the node on
// the worker's shared connection (never blocked by a blocking command or a script), and the node
// answers the blocked command itself (nil, or -UNBLOCKED), so an element popped at the same
// moment is never lost.
class BlockingCall : public PrivateCall {
 public:
  BlockingCall(WorkerContext* worker, ClientSession* client, Owner* owner)
      : PrivateCall(worker, client, owner) {}

  // The command, its keys in `slot` (a hash slot, kNoKeySlot or kCrossSlot). Returns true when
  // the call goes (the caller calls Begin()); false when the client was answered already.
  bool Start(int slot, const ClientCommand& command);

  // CLIENT UNBLOCK of this call's client, with `error` for ERROR (else TIMEOUT). Returns false
  // when the command is not blocked on a node: not sent yet, or the node's id of its connection
  // not known yet.
  bool Unblock(bool error);

 private:
  size_t AppendRequest(std::string* out) override;
  void OnLeadingFrame(size_t index, std::string_view frame) override;
};

}  // namespace slotplane::dataplane
