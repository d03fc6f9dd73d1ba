#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/slot.h"
#include "dataplane/command/client_command.h"
#include "dataplane/command/command_table.h"
#include "dataplane/scatter/slot_grouping.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// Multi-key commands whose keys span several slots, when the policy enables cross-slot
// (`enable-cross-slot`, as in redis-cluster-proxy). Only the commands that keep their meaning
// when cut up are split: MGET (one array in the client's key order), MSET (OK, or the first
// error), DEL, UNLINK, EXISTS, TOUCH (the sum). No atomicity across slots, as in
// redis-cluster-proxy. Every other multi-key command (MSETNX, RENAME, SUNIONSTORE, ...) keeps
// Redis's -CROSSSLOT whatever the policy.
//
// The keys are grouped per slot — Redis refuses a multi-key command whose keys span slots even
// when one node owns them all — so keys that share a slot (hash tags) travel in one
// sub-command, in the client's order. The sub-commands for one node are pipelined on its
// connection in the same write. Each is a keyed part of a MultiRequest: it follows MOVED, ASK
// and TRYAGAIN on its own, and reads may go to replicas under the read policy.
// One per worker; worker thread only.
class CrossSlotSplitter {
 public:
  explicit CrossSlotSplitter(WorkerContext* worker);

  // Whether `cmd` is one of the commands split across slots.
  static bool CanSplit(const CommandInfo& cmd);

  // Splits and sends `command`, whose keys (at `key_positions`) span slots. False, with nothing
  // sent, when the command cannot be split.
  bool Split(ClientSession* client, const ClientCommand& command,
             const std::vector<int>& key_positions);

 private:
  WorkerContext* worker_;
  SlotGrouping grouping_;  // reused: grouping allocates nothing in the steady state
};

}  // namespace slotplane::dataplane
