#include "dataplane/stateful/script_call.h"

#include <algorithm>
#include <atomic>

#include "dataplane/backend/private_pool.h"
#include "dataplane/core/script_cache.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/resp/request_encoder.h"

namespace slotplane::dataplane {
namespace {

// Idle private connections a worker keeps per node once script calls gave them back, at least:
// as many clients as this may run scripts on one node through one worker without reconnecting.
constexpr int kIdleScriptConnsPerNode = 64;

constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";

bool IsEval(std::string_view name) { return name == "eval" || name == "eval_ro"; }
bool IsEvalsha(std::string_view name) { return name == "evalsha" || name == "evalsha_ro"; }

}  // namespace

ScriptCall::~ScriptCall() { StopCounting(); }

bool ScriptCall::Start(int slot, const ClientCommand& command) {
  if (slot == kCrossSlot) {
    ReplyError(ErrorKind::kCrossSlot, errors::CrossSlot());
    return false;
  }
  Prepare(slot);
  SetCommand(command);
  sha_.clear();
  reload_.clear();
  if (command.args.size() > 1) {
    const std::string_view name = command.info.name;
    if (IsEval(name)) ScriptCache::Get().Remember(command.args[1]);
    if (IsEvalsha(name)) sha_.assign(command.args[1]);
  }
  return true;
}

bool ScriptCall::SendAgain(std::string_view last) {
  if (sha_.empty() || !reload_.empty() || last.substr(0, 9) != "-NOSCRIPT") return false;
  if (!ScriptCache::Get().Find(sha_, &reload_)) return false;
  worker()->stats().scripts_reloaded.Add();
  return true;
}

size_t ScriptCall::AppendRequest(std::string* out) {
  if (reload_.empty()) return PrivateCall::AppendRequest(out);
  // SCRIPT LOAD's reply is a leading frame: ignored. After an ASK, Send() wrote ASKING first,
  // which applies to the next command only: the EVALSHA gets its own.
  std::string load;
  EncodeCommand({"SCRIPT", "LOAD", reload_}, &load);
  *out += load;
  size_t frames = 1;
  if (asking()) {
    *out += kAsking;
    ++frames;
  }
  return frames + PrivateCall::AppendRequest(out);
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
