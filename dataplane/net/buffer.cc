#include "dataplane/net/buffer.h"

#include <cstring>
#include <new>

namespace slotplane::dataplane {
namespace {
constexpr size_t kMinCapacity = BufferPool::kBlockSize;  // a first allocation fits a pool block
}  // namespace

void Buffer::ShrinkIfIdle(size_t keep) {
  if (!empty() || capacity_ <= keep) return;
  Release();
}

void Buffer::ReleaseOwn() {
  std::free(data_);
  if (pool_ != nullptr) pool_->CountBig(-1, -static_cast<int64_t>(capacity_));
  data_ = nullptr;
  capacity_ = read_ = write_ = 0;
}

// Makes room at the back: first by sliding the unread bytes to the front when that frees enough
// (and at least half the buffer, so repeated slides stay amortized O(1)), else by growing.
void Buffer::Reserve(size_t min_space) {
  size_t used = write_ - read_;
  if (read_ > 0 && capacity_ - used >= min_space && read_ >= capacity_ / 2) {
    std::memmove(data_, data_ + read_, used);
    read_ = 0;
    write_ = used;
    return;
  }
  size_t wanted = used + min_space;
  size_t capacity = capacity_ < kMinCapacity ? kMinCapacity : capacity_;
  while (capacity < wanted) capacity *= 2;
  if (read_ > 0) {
    std::memmove(data_, data_ + read_, used);
    read_ = 0;
    write_ = used;
  }
  if (capacity != capacity_) Grow(capacity);
}

// Moves to `capacity` bytes, more than a pool block: a big buffer of the buffer's own (a block it
// outgrew goes back to the pool).
void Buffer::Grow(size_t capacity) {
  char* grown;
  if (pooled_) {
    grown = static_cast<char*>(std::malloc(capacity));
    if (grown == nullptr) throw std::bad_alloc();
    std::memcpy(grown, data_, write_);
    pool_->Return(data_);
    pooled_ = false;
    pool_->CountBig(1, static_cast<int64_t>(capacity));
  } else {
    grown = static_cast<char*>(std::realloc(data_, capacity));
    if (grown == nullptr) throw std::bad_alloc();
    if (pool_ != nullptr) {
      pool_->CountBig(data_ == nullptr ? 1 : 0, static_cast<int64_t>(capacity - capacity_));
    }
  }
  data_ = grown;
  capacity_ = capacity;
}

}  // namespace slotplane::dataplane
