#include "dataplane/stateful/transaction.h"

#include "dataplane/core/errors.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kMulti = "*1\r\n$5\r\nMULTI\r\n";
constexpr std::string_view kExec = "*1\r\n$4\r\nEXEC\r\n";

}  // namespace

std::string Transaction::Multi() {
  if (in_multi_) return errors::MultiNested();
  in_multi_ = true;
  return "+OK\r\n";
}

std::string Transaction::Queue(std::string_view command, int slot) {
  if (slot == kCrossSlot || (slot >= 0 && slot_ >= 0 && slot != slot_)) {
    flagged_ = true;
    return errors::CrossSlot();
  }
  if (slot >= 0) slot_ = slot;
  commands_.emplace_back(command);
  queued_bytes_ += command.size();
  return "+QUEUED\r\n";
}

std::string Transaction::CheckWatch(int slot) const {
  if (in_multi_) return errors::WatchInsideMulti();
  if (slot == kCrossSlot || (slot >= 0 && slot_ >= 0 && slot != slot_)) return errors::CrossSlot();
  return std::string();
}

void Transaction::Watched(int slot) {
  watching_ = true;
  if (slot >= 0) slot_ = slot;
}

void Transaction::Unwatch() {
  watching_ = false;
  if (!in_multi_) slot_ = kNoKeySlot;
}

Transaction::ExecAction Transaction::Exec() {
  if (!in_multi_) return ExecAction::kNotInMulti;
  if (flagged_) {
    Reset();
    return ExecAction::kAbort;
  }
  if (commands_.empty() && !watching_) {
    Reset();
    return ExecAction::kEmpty;
  }
  return ExecAction::kRun;
}

std::string Transaction::Discard() {
  if (!in_multi_) return errors::DiscardWithoutMulti();
  Reset();
  return "+OK\r\n";
}

void Transaction::Reset() {
  in_multi_ = false;
  watching_ = false;
  flagged_ = false;
  slot_ = kNoKeySlot;
  commands_.clear();
  queued_bytes_ = 0;
}

void Transaction::AppendExecBlock(std::string* out) const {
  out->append(kMulti.data(), kMulti.size());
  for (const std::string& command : commands_) out->append(command);
  out->append(kExec.data(), kExec.size());
}

}  // namespace slotplane::dataplane
