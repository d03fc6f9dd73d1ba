#include "dataplane/router/hold_queue.h"

#include "dataplane/command/command_table.h"
#include "dataplane/core/policy.h"

namespace slotplane::dataplane {
namespace {

// The command name of a RESP multibulk (`*N\r\n$L\r\nNAME\r\n...`) or of an inline command
// (`NAME arg ...\r\n`); empty when `wire` is neither.
std::string_view CommandName(std::string_view wire) {
  if (wire.empty()) return {};
  if (wire[0] != '*') {
    const size_t end = wire.find_first_of(" \r\n");
    return wire.substr(0, end);
  }
  const size_t bulk = wire.find("\r\n$");
  if (bulk == std::string_view::npos) return {};
  const size_t length_end = wire.find("\r\n", bulk + 3);
  if (length_end == std::string_view::npos) return {};
  size_t length = 0;
  for (size_t i = bulk + 3; i < length_end; ++i) {
    if (wire[i] < '0' || wire[i] > '9' || length > 1024) return {};
    length = length * 10 + static_cast<size_t>(wire[i] - '0');
  }
  if (length_end + 2 + length > wire.size()) return {};
  return wire.substr(length_end + 2, length);
}

}  // namespace

bool HoldQueue::Hold(Request* request, int64_t now_ms) {
  const size_t bytes = request->command.size();
  if (count_ + 1 > budget_.max_requests || bytes_ + bytes > budget_.max_bytes) return false;
  if (request->held_since_ms == 0) request->held_since_ms = now_ms == 0 ? 1 : now_ms;
  request->next_in_backend = nullptr;
  if (tail_ == nullptr) {
    head_ = tail_ = request;
  } else {
    tail_->next_in_backend = request;
    tail_ = request;
  }
  ++count_;
  bytes_ += bytes;
  ++per_slot_[request->slot];
  return true;
}

Request* HoldQueue::TakeAll() {
  for (Request* r = head_; r != nullptr; r = r->next_in_backend) --per_slot_[r->slot];
  Request* all = head_;
  head_ = tail_ = nullptr;
  count_ = 0;
  bytes_ = 0;
  return all;
}

bool ResendableAfterLoss(std::string_view wire, const ProxyPolicy& policy) {
  const std::string_view name = CommandName(wire);
  if (name.empty()) return false;
  const CommandInfo* info = CommandTable::Get().Find(name);
  return info != nullptr && policy.ResendableAfterLoss(*info);
}

}  // namespace slotplane::dataplane
