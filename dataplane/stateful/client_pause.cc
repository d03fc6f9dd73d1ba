#include "dataplane/stateful/client_pause.h"

#include <string_view>

namespace slotplane::dataplane {
namespace {

// Redis's may-replicate commands that carry no `write` flag.
bool MayReplicate(const CommandInfo& cmd) {
  const std::string_view name = cmd.name;
  return name == "publish" || name == "spublish" || name == "pfcount" || name == "wait";
}

}  // namespace

ClientPause ClientPause::instance_;

void ClientPause::Pause(int64_t end_ms, bool writes_only) {
  writes_only_.store(writes_only, std::memory_order_relaxed);
  end_ms_.store(end_ms <= 0 ? 1 : end_ms, std::memory_order_release);
}

bool ClientPause::Postpones(const CommandInfo& cmd, bool in_multi, int64_t now_ms) {
  int64_t end = end_ms_.load(std::memory_order_acquire);
  if (end == 0) return false;
  if (now_ms >= end) {
    end_ms_.compare_exchange_strong(end, 0, std::memory_order_relaxed);  // unless renewed
    return false;
  }
  if (!writes_only_.load(std::memory_order_relaxed)) return true;
  if (in_multi) return cmd.handler == Handler::kExec;  // the queued commands run inside it
  return (cmd.flags & kCmdWrite) || MayReplicate(cmd) || cmd.handler == Handler::kExec;
}

}  // namespace slotplane::dataplane
