#include "dataplane/stateful/node_fanout.h"

#include <utility>

#include "dataplane/backend/private_pool.h"
#include "dataplane/core/worker_context.h"

namespace slotplane::dataplane {

void NodeFanout::Start(std::vector<Part> parts, Done done) {
  Cancel();
  done_ = std::move(done);
  slots_.assign(parts.size(), Slot());
  answers_.assign(parts.size(), std::string());
  outstanding_ = parts.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    slots_[i].conn = worker_->private_pool().Acquire(parts[i].address, this);
    slots_[i].frames_left = parts[i].frames;
    slots_[i].conn->Write(parts[i].payload);
  }
}

void NodeFanout::Cancel() {
  for (Slot& slot : slots_) {
    if (slot.conn != nullptr) worker_->private_pool().Discard(slot.conn);
    slot.conn = nullptr;
  }
  slots_.clear();
  answers_.clear();
  outstanding_ = 0;
  done_ = nullptr;
}

size_t NodeFanout::IndexOf(PrivateConn* conn) const {
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].conn == conn) return i;
  }
  return slots_.size();
}

void NodeFanout::OnPrivateFrame(PrivateConn* conn, std::string_view frame) {
  size_t index = IndexOf(conn);
  if (index == slots_.size()) return;
  Slot& slot = slots_[index];
  if (--slot.frames_left > 0) return;
  answers_[index].assign(frame.data(), frame.size());
  worker_->private_pool().Release(conn);
  slot.conn = nullptr;
  PartDone(index);
}

void NodeFanout::OnPrivateConnLost(PrivateConn* conn, const std::string& error) {
  size_t index = IndexOf(conn);
  worker_->private_pool().Discard(conn);
  if (index == slots_.size()) return;
  slots_[index].conn = nullptr;
  answers_[index] = error;
  PartDone(index);
}

void NodeFanout::PartDone(size_t index) {
  (void)index;
  if (--outstanding_ > 0) return;
  Done done = std::move(done_);
  std::vector<std::string> answers = std::move(answers_);
  slots_.clear();
  answers_.clear();
  done_ = nullptr;
  if (done) done(answers);
}

}  // namespace slotplane::dataplane
