#include "dataplane/stateful/fanout_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "dataplane/command/client_command.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/stateful/node_answers.h"

namespace slotplane::dataplane {
namespace {

// A replicated write that changes nothing: run before WAIT on a private connection so that the
// node's WAIT covers every write the node took before it (WAIT counts the replicas that reached
// the connection's own last write).
constexpr std::string_view kWaitMarkerScript =
    "if redis.call('exists', KEYS[1]) == 0 then redis.call('set', KEYS[1], '1') "
    "redis.call('del', KEYS[1]) end return 0";
constexpr int kMaxMarkerKeyTries = 100000;

// The masters that own slots in the worker's current view.
std::vector<NodeAddress> Masters(WorkerContext* worker) {
  std::vector<NodeAddress> out;
  const ClusterViewPtr& view = worker->router().view();
  if (view == nullptr) return out;
  for (const Shard& shard : view->shards()) {
    if (!shard.slots.empty()) out.push_back(shard.master.address);
  }
  return out;
}

// Puts the marker write in front of `part`'s payload, on a key of a slot its master owns.
void AppendMarkerWrite(WorkerContext* worker, NodeFanout::Part* part) {
  for (int i = 0; i < kMaxMarkerKeyTries; ++i) {
    std::string key = absl::StrCat("slotplane:wait:{", i, "}");
    BackendConn* owner = worker->router().ForSlot(KeyHashSlot(key));
    if (owner == nullptr || !(owner->address() == part->address)) continue;
    resp::AppendArrayHeader(&part->payload, 4);
    resp::AppendBulk(&part->payload, "EVAL");
    resp::AppendBulk(&part->payload, kWaitMarkerScript);
    resp::AppendBulk(&part->payload, "1");
    resp::AppendBulk(&part->payload, key);
    part->frames = 2;
    return;
  }
}

std::string MergeWait(std::string_view /*subcommand*/, const std::vector<std::string>& answers) {
  return MergeWaitAnswers(answers);
}

}  // namespace

bool FanoutCall::StartWait(const ClientCommand& command) {
  subcommand_ = {};
  merge_ = &MergeWait;
  return StartOnMasters(command, /*marker_write=*/true);
}

bool FanoutCall::StartPubSubQuery(const ClientCommand& command) {
  subcommand_ = command.info.name;
  merge_ = &MergePubSubAnswers;
  return StartOnMasters(command, /*marker_write=*/false);
}

bool FanoutCall::StartOnMasters(const ClientCommand& command, bool marker_write) {
  std::vector<NodeAddress> masters = Masters(worker());
  if (masters.empty()) {
    ReplyError(ErrorKind::kClusterDown, errors::NoTopology());
    return false;
  }
  std::string_view bytes = command.WireView(&scratch_);
  Prepare(kNoKeySlot);
  parts_.clear();
  for (NodeAddress& address : masters) {
    NodeFanout::Part part{std::move(address), "", 1};
    if (marker_write) AppendMarkerWrite(worker(), &part);
    part.payload.append(bytes.data(), bytes.size());
    parts_.push_back(std::move(part));
  }
  return true;
}

void FanoutCall::Launch() {
  fanout_.Start(std::move(parts_), [this](std::vector<std::string>& answers) {
    std::string reply = merge_(subcommand_, answers);
    Finish(reply);
  });
  parts_.clear();
}

void FanoutCall::Leave() {
  fanout_.Cancel();
  parts_.clear();
}

}  // namespace slotplane::dataplane
