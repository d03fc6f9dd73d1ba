#include "dataplane/scatter/cross_slot.h"

#include "dataplane/backend/backend_conn.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/scatter/multi_request.h"
#include "dataplane/scatter/reducers.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

enum class SplitKind {
  kNone,
  kArray,   // MGET
  kStatus,  // MSET
  kSum,     // DEL, UNLINK, EXISTS, TOUCH
};

SplitKind KindOf(const CommandInfo& cmd) {
  const std::string_view name(cmd.name);
  if (name == "mget") return SplitKind::kArray;
  if (name == "mset") return SplitKind::kStatus;
  if (name == "del" || name == "unlink" || name == "exists" || name == "touch") {
    return SplitKind::kSum;
  }
  return SplitKind::kNone;
}

class SplitRequest : public MultiRequest {
 public:
  SplitRequest(WorkerContext* worker, SplitKind kind, const char* command)
      : MultiRequest(worker, /*pinned=*/false), kind_(kind), command_(command) {}

  std::vector<uint32_t> key_parts;  // the part of each key, in the client's key order

 private:
  void Reduce(const std::vector<std::string>& replies, std::string* out) override {
    switch (kind_) {
      case SplitKind::kArray:
        return reduce::MergeByKeyOrder(replies, key_parts, command_, out, resp3());
      case SplitKind::kStatus:
        return reduce::FirstUnlessError(replies, out);
      case SplitKind::kSum:
      case SplitKind::kNone:
        return reduce::SumIntegers(replies, command_, out);
    }
  }

  const SplitKind kind_;
  const char* command_;
};

}  // namespace

CrossSlotSplitter::CrossSlotSplitter(WorkerContext* worker) : worker_(worker) {}

bool CrossSlotSplitter::CanSplit(const CommandInfo& cmd) { return KindOf(cmd) != SplitKind::kNone; }

bool CrossSlotSplitter::Split(ClientSession* client, const ClientCommand& command,
                              const std::vector<int>& key_positions) {
  const CommandInfo& cmd = command.info;
  const std::vector<std::string_view>& args = command.args;
  const SplitKind kind = KindOf(cmd);
  if (kind == SplitKind::kNone) return false;
  const size_t step = kind == SplitKind::kStatus ? 2 : 1;  // MSET: key and value
  if (step == 2 && (args.size() - 1) % 2 != 0) {
    worker_->stats().CountError(ErrorKind::kWrongArity);
    client->Reply(errors::WrongArity(cmd.name));
    return true;
  }
  auto* multi = new SplitRequest(worker_, kind, cmd.name);
  grouping_.Group(args, key_positions, &multi->key_parts);
  const size_t parts = grouping_.parts();

  const ReadPolicy read_policy = worker_->policy().read_policy;
  const bool replica_reads = (cmd.flags & kCmdReadonly) && read_policy != ReadPolicy::kMaster;
  SlotRouter& router = worker_->router();
  multi->Begin(client, parts);
  for (size_t p = 0; p < parts; ++p) {
    const uint16_t slot = grouping_.part_slot(p);
    Request* part = multi->AddPart(slot);
    grouping_.AppendPartCommand(p, args, key_positions, step, &part->command);
    BackendConn* conn = router.ForSlot(slot);
    if (replica_reads && conn != nullptr) {
      BackendConn* read = router.ForRead(slot, read_policy);
      part->replica_read = read != conn;
      conn = read;
    }
    multi->Send(part, conn);
  }
  multi->Launch();
  return true;
}

}  // namespace slotplane::dataplane
