#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

// The slot of a command's keys for the transaction rules: a hash slot, or one of these.
inline constexpr int kNoKeySlot = -1;  // the command has no keys (PING, TIME, ...)
inline constexpr int kCrossSlot = -2;  // its keys hash to several slots

// A client's MULTI/EXEC/WATCH state as the proxy keeps it. MULTI opens a queue that the proxy
// fills itself (answering +QUEUED), WATCH and the queued commands pin the transaction to one hash
// slot, and EXEC sends the whole block (MULTI, the commands, EXEC) to the node that owns that
// slot in one write. Pure state with Redis's rules and reply texts: no I/O, so the state machine
// is unit-tested on its own; SessionState runs it against the cluster.
//
// Redis's rules kept here: MULTI inside MULTI and WATCH inside MULTI are errors that do not abort
// the transaction; a command Redis would refuse at queue time (unknown, wrong arity, not allowed
// in a transaction) makes EXEC answer EXECABORT; EXEC and DISCARD end the transaction and forget
// the watched keys. The cluster's rule: every key, watched or queued, must hash to one slot, or
// the command gets -CROSSSLOT (and, queued, aborts the transaction).
class Transaction {
 public:
  enum class ExecAction {
    kNotInMulti,  // reply ExecWithoutMulti(); nothing changes
    kAbort,       // reply ExecAbort(); the transaction and its watches are over
    kEmpty,       // reply "*0"; nothing was queued or watched
    kRun,         // send ExecBlock() to the slot's node; the reply to EXEC is the client's
  };

  // MULTI: "+OK", or the nesting error (the transaction goes on).
  std::string Multi();
  // A command rejected at queue time (its error reply already sent): EXEC will abort.
  void Flag() { flagged_ = true; }
  // Queues `command` (RESP bytes) whose keys are in `slot` (a slot, kNoKeySlot, kCrossSlot).
  // Returns "+QUEUED", or -CROSSSLOT and flags the transaction.
  std::string Queue(std::string_view command, int slot);
  // Before a WATCH of keys in `slot` is sent: empty when it may go, else the error reply (inside
  // MULTI, or keys in another slot than the transaction's).
  std::string CheckWatch(int slot) const;
  // The node accepted a WATCH of keys in `slot`.
  void Watched(int slot);
  // UNWATCH outside MULTI, or the watches were dropped: forgets the watched keys.
  void Unwatch();
  // EXEC. On kAbort and kEmpty the transaction is over already; on kRun call Finish() once the
  // node answered.
  ExecAction Exec();
  // DISCARD: "+OK" and the transaction and its watches are over, or the DISCARD-without-MULTI
  // error.
  std::string Discard();
  // After EXEC ran (or failed): back to no transaction and no watches.
  void Finish() { Reset(); }
  // RESET: as if the client had never sent MULTI or WATCH.
  void Reset();

  // MULTI, the queued commands and EXEC, ready to write to the node.
  void AppendExecBlock(std::string* out) const;

  bool in_multi() const { return in_multi_; }
  bool watching() const { return watching_; }
  bool flagged() const { return flagged_; }
  // The slot every key so far hashes to; kNoKeySlot while there is none.
  int slot() const { return slot_; }
  size_t queued() const { return commands_.size(); }
  size_t queued_bytes() const { return queued_bytes_; }

 private:
  bool in_multi_ = false;
  bool watching_ = false;
  bool flagged_ = false;
  int slot_ = kNoKeySlot;
  std::vector<std::string> commands_;
  size_t queued_bytes_ = 0;
};

}  // namespace slotplane::dataplane
