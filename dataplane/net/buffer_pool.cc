#include "dataplane/net/buffer_pool.h"

#include <cstdlib>
#include <new>

namespace slotplane::dataplane {

BufferPool::BufferPool(size_t max_free) : max_free_(max_free) { free_.reserve(max_free_); }

BufferPool::~BufferPool() {
  for (char* block : free_) std::free(block);
}

char* BufferPool::LendNew() {
  char* block = static_cast<char*>(std::malloc(kBlockSize));
  if (block == nullptr) throw std::bad_alloc();
  Bump(lent_, int64_t{1});
  return block;
}

void BufferPool::FreeBlock(char* block) {
  std::free(block);
  Bump(freed_bytes_, uint64_t{kBlockSize});
}

void BufferPool::CountBig(int64_t buffers, int64_t bytes) {
  Bump(big_buffers_, buffers);
  Bump(big_bytes_, bytes);
  if (bytes < 0) Bump(freed_bytes_, static_cast<uint64_t>(-bytes));
}

void BufferPool::Usage::Add(const BufferPool& pool) {
  constexpr int64_t kBlock = static_cast<int64_t>(kBlockSize);
  buffers += pool.lent() + pool.big_buffers();
  bytes += pool.lent() * kBlock + pool.big_bytes();
  free_bytes += pool.free_blocks() * kBlock;
}

}  // namespace slotplane::dataplane
