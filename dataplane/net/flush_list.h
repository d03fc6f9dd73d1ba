#pragma once

#include <algorithm>
#include <vector>

namespace slotplane::dataplane {

// Batched writes: the connections (or clients) that queued output during a loop pass, each
// flushed once before the loop sleeps, as Redis's handleClientsWithPendingWrites does. `T` has a
// `bool flush_scheduled` (true while listed; Flush() clears it) and `void Flush()`. An item that
// was flushed or closed meanwhile has `flush_scheduled` false and is skipped. Flushing may
// schedule more (a resumed client dispatches buffered commands): the next FlushAll() takes those.
// One thread only.
template <typename T>
class FlushList {
 public:
  void Schedule(T* item) {
    item->flush_scheduled = true;
    pending_.push_back(item);
  }
  bool empty() const { return pending_.empty(); }
  // Drops the listed items for which pred(item) holds: those about to be deleted.
  template <typename Pred>
  void EraseIf(Pred pred) {
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(), pred), pending_.end());
  }
  // Flushes what was scheduled so far; false when nothing was.
  bool FlushAll() {
    if (pending_.empty()) return false;
    flushing_.swap(pending_);
    for (T* item : flushing_) {
      if (item->flush_scheduled) item->Flush();
    }
    flushing_.clear();
    return true;
  }

 private:
  std::vector<T*> pending_;
  std::vector<T*> flushing_;  // kept to reuse its capacity
};

}  // namespace slotplane::dataplane
