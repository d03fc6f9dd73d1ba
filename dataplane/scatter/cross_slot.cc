#include "dataplane/scatter/cross_slot.h"

#include "dataplane/backend/backend_conn.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/resp/reply_writer.h"
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
        return reduce::MergeByKeyOrder(replies, key_parts, command_, out);
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

CrossSlotSplitter::CrossSlotSplitter(WorkerContext* worker) : worker_(worker) {
  slot_part_.fill(-1);
}

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
  const size_t keys = key_positions.size();
  auto* multi = new SplitRequest(worker_, kind, cmd.name);
  multi->key_parts.resize(keys);

  // Group the keys by slot, parts numbered in order of first appearance.
  part_slots_.clear();
  for (size_t i = 0; i < keys; ++i) {
    const uint16_t slot = KeyHashSlot(args[key_positions[i]]);
    int32_t& part = slot_part_[slot];
    if (part < 0) {
      part = static_cast<int32_t>(part_slots_.size());
      part_slots_.push_back(slot);
    }
    multi->key_parts[i] = static_cast<uint32_t>(part);
  }
  for (uint16_t slot : part_slots_) slot_part_[slot] = -1;
  const size_t parts = part_slots_.size();
  part_key_counts_.assign(parts, 0);
  for (uint32_t part : multi->key_parts) ++part_key_counts_[part];
  part_offsets_.assign(parts + 1, 0);
  for (size_t p = 0; p < parts; ++p) part_offsets_[p + 1] = part_offsets_[p] + part_key_counts_[p];
  keys_by_part_.resize(keys);
  for (size_t i = 0; i < keys; ++i) keys_by_part_[part_offsets_[multi->key_parts[i]]++] = i;

  const ReadPolicy read_policy = worker_->policy().read_policy;
  const bool replica_reads = (cmd.flags & kCmdReadonly) && read_policy != ReadPolicy::kMaster;
  SlotRouter& router = worker_->router();
  multi->Begin(client, parts);
  size_t begin = 0;
  for (size_t p = 0; p < parts; ++p) {
    const uint16_t slot = part_slots_[p];
    Request* part = multi->AddPart(slot);
    resp::AppendArrayHeader(&part->command, 1 + part_key_counts_[p] * step);
    resp::AppendBulk(&part->command, args[0]);
    for (size_t k = begin; k < begin + part_key_counts_[p]; ++k) {
      const int position = key_positions[keys_by_part_[k]];
      for (size_t j = 0; j < step; ++j) resp::AppendBulk(&part->command, args[position + j]);
    }
    begin += part_key_counts_[p];
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
