#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace slotplane::dataplane {

// A worker's stock of fixed-size blocks that client buffers borrow while they hold bytes and give
// back once drained, so an idle client holds no buffer memory and a worker needs only as many
// blocks as it has clients with bytes in flight at once.
//
// Bounded: at most `max_free` returned blocks are kept for reuse; one returned beyond that is
// freed. Blocks freed that way, and big buffers (Buffer grows past a block with malloc, never
// from the pool) freed when drained, add to freed_bytes(), so the owner can tell when a burst
// left heap memory worth giving back to the system (ClientRegistry's malloc_trim).
//
// Lend and Return are O(1) and allocate nothing once the free list holds a block: no lock, one
// owner thread. The gauges are relaxed atomics written by that thread only (a load and a store,
// the cost of a plain integer) and may be read by any thread (metrics, PROXY INFO).
class BufferPool {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;
  static constexpr size_t kDefaultMaxFree = 64;  // 1 MB kept per worker at most

  explicit BufferPool(size_t max_free = kDefaultMaxFree);
  // Frees the kept blocks. Every lent block must have been returned first.
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A block of kBlockSize bytes: a kept one if any, else a new allocation. Inline: it runs for
  // every client read and reply.
  char* Lend() {
    if (free_.empty()) return LendNew();
    char* block = free_.back();
    free_.pop_back();
    Bump(free_count_, int64_t{-1});
    Bump(lent_, int64_t{1});
    return block;
  }
  // Takes back a block Lend() gave.
  void Return(char* block) {
    Bump(lent_, int64_t{-1});
    if (free_.size() >= max_free_) {
      FreeBlock(block);
      return;
    }
    free_.push_back(block);
    Bump(free_count_, int64_t{1});
  }

  // A big buffer (beyond one block) of a pool user was allocated, resized or freed: it counts in
  // the gauges below while it lives, and towards freed_bytes() when freed.
  void CountBig(int64_t buffers, int64_t bytes);

  // Blocks lent now.
  int64_t lent() const { return lent_.load(std::memory_order_relaxed); }
  // Blocks kept for reuse.
  int64_t free_blocks() const { return free_count_.load(std::memory_order_relaxed); }
  // Big buffers alive now, and their bytes.
  int64_t big_buffers() const { return big_buffers_.load(std::memory_order_relaxed); }
  int64_t big_bytes() const { return big_bytes_.load(std::memory_order_relaxed); }
  // Bytes given back to the heap since the pool was created (monotonic).
  uint64_t freed_bytes() const { return freed_bytes_.load(std::memory_order_relaxed); }

  // The gauges as metrics and PROXY INFO show them, summed over the workers' pools.
  struct Usage {
    int64_t buffers = 0;     // buffers holding memory: blocks lent plus big buffers
    int64_t bytes = 0;       // their bytes
    int64_t free_bytes = 0;  // bytes of the blocks kept for reuse
    void Add(const BufferPool& pool);
  };

 private:
  char* LendNew();
  void FreeBlock(char* block);

  template <typename T>
  static void Bump(std::atomic<T>& gauge, T delta) {
    gauge.store(gauge.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }

  const size_t max_free_;
  std::vector<char*> free_;  // reserved to max_free_: Return never allocates
  std::atomic<int64_t> lent_{0};
  std::atomic<int64_t> free_count_{0};
  std::atomic<int64_t> big_buffers_{0};
  std::atomic<int64_t> big_bytes_{0};
  std::atomic<uint64_t> freed_bytes_{0};
};

}  // namespace slotplane::dataplane
