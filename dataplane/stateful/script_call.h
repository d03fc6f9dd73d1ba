#pragma once

#include <string>
#include <string_view>

#include "dataplane/stateful/private_call.h"

namespace slotplane::dataplane {

// EVAL, EVALSHA, FCALL and their _RO forms on a private connection to the master of their keys'
// slot (any master, in turn, without keys), so that a script that runs long holds only its own
// client: while it runs past busy-reply-threshold, the node answers the worker's shared
// connection -BUSY (as Redis answers every other connection) instead of leaving it stuck behind
// the script, and SCRIPT KILL / FUNCTION KILL reach the node. The connection comes from the
// worker's PrivatePool (an idle one when there is one: no connect per call) and goes back once
// the reply is in, kept idle up to 64 (or connections-pool-size, when larger) per node, so that
// clients running scripts concurrently reuse connections instead of reconnecting; more script
// calls at once on one node open more connections (there is no queue). A client that leaves
// mid-script gets its connection closed. The client's earlier replies
// are in before the script goes, and its next commands wait for the script's reply, as on one
// Redis connection. Inside MULTI, or with multiplexing off, scripts stay on the transaction's or
// the client's own connection. Always on the master, whatever read-policy says (a busy replica
// would stall its shared connection the same way).
//
// EVALSHA answered NOSCRIPT by a master that lacks the script (a cluster has a script cache per
// node): when the proxy knows the body (ScriptCache, from an EVAL or SCRIPT LOAD through it), the
// call sends SCRIPT LOAD and the EVALSHA again on the same connection, once.
//
// While the call is on the wire it counts in ProxyContext::scripts_running, which PING reads
// (see command_dispatch.cc). Worker thread only; owned by the client's SessionState.
class ScriptCall : public PrivateCall {
 public:
  ScriptCall(WorkerContext* worker, ClientSession* client, Owner* owner)
      : PrivateCall(worker, client, owner) {}
  ~ScriptCall() override;

  // The command, its keys in `slot` (a hash slot, kNoKeySlot or kCrossSlot). Returns true when
  // the call goes (the caller calls Begin()); false when the client was answered already.
  bool Start(int slot, const ClientCommand& command);

 private:
  void Launch() override;
  bool SendAgain(std::string_view last) override;
  size_t AppendRequest(std::string* out) override;
  void Settle(std::string_view reply) override;
  void Leave() override;
  // Leaves ProxyContext::scripts_running when the call counted in it.
  void StopCounting();

  bool counted_ = false;
  std::string sha_;     // EVALSHA's script; empty for the other commands
  std::string reload_;  // the body sent with SCRIPT LOAD before the command; empty: none
};

}  // namespace slotplane::dataplane
