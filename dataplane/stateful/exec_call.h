#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "dataplane/router/redirect.h"
#include "dataplane/stateful/private_call.h"
#include "dataplane/stateful/transaction.h"
#include "dataplane/stateful/watch_call.h"

namespace slotplane::dataplane {

// EXEC of a transaction the client's SessionState queued (MULTI and the queued commands are
// answered there): sends MULTI, the commands and EXEC in one write to the master of the
// transaction's slot, on the connection that holds the client's WATCHes if there is one; the
// node's answer to EXEC is the client's.
//
// Redirects: if a queued command was redirected (the slot moved since), the node aborted the
// transaction and nothing ran. Without WATCH the block runs again on the new owner (at most
// max-redirects times; TRYAGAIN at most tryagain-retries times, after which the client gets the
// node's EXECABORT). With WATCH, EXEC answers nil as if a watched key had changed, since the
// watch was on the old owner: the client's retry then watches on the new one.
//
// EXEC ends the transaction and the watches whatever the outcome. Worker thread only; owned by
// the client's SessionState.
class ExecCall : public PrivateCall {
 public:
  ExecCall(WorkerContext* worker, ClientSession* client, Owner* owner, Transaction* txn,
           WatchedConn* watches)
      : PrivateCall(worker, client, owner), txn_(txn), watches_(watches) {}

  // EXEC. Returns true when the block goes to a node (the caller calls Begin()); false when the
  // client was answered already: EXEC without MULTI, EXECABORT, an empty transaction, or nil
  // because the watch is broken.
  bool Start();

 protected:
  // MULTI, the commands, EXEC.
  size_t AppendRequest(std::string* out) override;
  // MULTI's +OK, then +QUEUED or a refusal per command.
  void OnLeadingFrame(size_t index, std::string_view frame) override;
  // The first redirect among the queued commands' answers: EXEC's own answer is then EXECABORT.
  Redirect RedirectOf(std::string_view /*last*/) override { return redirect_; }
  // A watched transaction cannot move: the watches are on this node.
  bool pinned() const override { return txn_->watching(); }
  std::string_view PinnedReply() override;
  void Settle(std::string_view reply) override;
  // The rest of the replies are swallowed (EXEC clears the watches), or UNWATCH when the block
  // was not sent.
  void Leave() override;

 private:
  // Answers an EXEC that does not reach a node; true for ExecAction::kRun.
  bool Runs(Transaction::ExecAction action);

  Transaction* const txn_;
  WatchedConn* const watches_;
  Redirect redirect_;  // the first redirect among the queued commands' answers
};

}  // namespace slotplane::dataplane
