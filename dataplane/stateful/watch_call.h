#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "dataplane/stateful/private_call.h"
#include "dataplane/stateful/transaction.h"

namespace slotplane::dataplane {

class PrivatePool;

// Gives `conn` back to `pool` after writing UNWATCH on it; `owed` replies are still due before
// UNWATCH's, and the pool swallows them all.
void ReleaseUnwatched(PrivatePool* pool, PrivateConn* conn, size_t owed);

// The private connection that keeps a client's WATCHes between its calls: a WATCH call leaves
// them there and the EXEC call runs the transaction on it. Owned by the client's SessionState,
// which is the connection's user; worker thread only.
struct WatchedConn {
  PrivateConn* conn = nullptr;  // holds the client's WATCHes
  bool asking = false;          // the watch went to an importing node after ASK
  bool broken = false;          // the watch no longer protects the keys: EXEC is nil

  // The watches died with the connection, or its state is unknown now: EXEC answers nil and the
  // client retries.
  void Lose() {
    conn = nullptr;
    broken = true;
  }
  // Gives the connection back (writing UNWATCH first) and forgets the watches' state.
  void Drop(PrivatePool* pool);
};

// WATCH key [key ...]: its keys must hash to the transaction's slot. It runs on the connection
// that holds the client's earlier WATCHes, or on a new private connection to the slot's master
// that keeps the watches from then on (WatchedConn). A first WATCH (no connection holds watches
// yet) follows MOVED, ASK and TRYAGAIN like any call; a later one cannot move, since the earlier
// watches are on this node: on a redirect the watch is broken, the client gets +OK and its EXEC
// answers nil (the client's retry then watches on the new owner). Once the watch is broken, WATCH
// answers +OK without asking a node. Worker thread only; owned by the client's SessionState.
class WatchCall : public PrivateCall {
 public:
  WatchCall(WorkerContext* worker, ClientSession* client, Owner* owner, Transaction* txn,
            WatchedConn* watches)
      : PrivateCall(worker, client, owner), txn_(txn), watches_(watches) {}

  // WATCH of keys in `slot` (a hash slot, kNoKeySlot or kCrossSlot). Returns true when the call
  // goes (the caller calls Begin()); false when the client was answered already.
  bool Start(int slot, const ClientCommand& command);

 protected:
  bool pinned() const override { return watches_->conn != nullptr; }
  std::string_view PinnedReply() override;
  // +OK: the connection keeps the watches and the transaction takes the slot.
  void Settle(std::string_view reply) override;
  // UNWATCH, then the connection goes back once every reply is in.
  void Leave() override;

 private:
  Transaction* const txn_;
  WatchedConn* const watches_;
};

}  // namespace slotplane::dataplane
