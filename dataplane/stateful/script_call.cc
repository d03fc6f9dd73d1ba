#include "dataplane/stateful/script_call.h"

#include <algorithm>
#include <atomic>

#include "dataplane/backend/private_pool.h"
#include "dataplane/core/worker_context.h"

namespace slotplane::dataplane {
namespace {

// Idle private connections a worker keeps per node once script calls gave them back, at least:
// as many clients as this may run scripts on one node through one worker without reconnecting.
constexpr int kIdleScriptConnsPerNode = 64;

}  // namespace

ScriptCall::~ScriptCall() { StopCounting(); }

bool ScriptCall::Start(int slot, const ClientCommand& command) {
  if (slot == kCrossSlot) {
    ReplyError(ErrorKind::kCrossSlot, errors::CrossSlot());
    return false;
  }
  Prepare(slot);
  SetCommand(command);
  return true;
}

void ScriptCall::Launch() {
  if (!counted_) {
    counted_ = true;
    worker()->proxy().scripts_running.fetch_add(1, std::memory_order_relaxed);
  }
  Send();
}

void ScriptCall::Settle(std::string_view /*reply*/) {
  StopCounting();
  if (conn() == nullptr) return;
  PrivatePool& pool = worker()->private_pool();
  pool.Release(conn(), std::max(kIdleScriptConnsPerNode, worker()->policy().connections_pool_size));
}

void ScriptCall::Leave() {
  StopCounting();
  PrivateCall::Leave();
}

void ScriptCall::StopCounting() {
  if (!counted_) return;
  counted_ = false;
  worker()->proxy().scripts_running.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace slotplane::dataplane
