#pragma once

#include <cstddef>
#include <cstdlib>
#include <string_view>

#include "dataplane/net/buffer_pool.h"
#include "dataplane/net/copy_bytes.h"

namespace slotplane::dataplane {

// A growable byte buffer with a read cursor: bytes are appended at the back and consumed from
// the front. Consuming everything rewinds to the start, so a connection in steady state reuses
// the same memory without allocating. Owned by one thread.
//
// With a BufferPool (client connections), memory comes from the pool: the first write borrows
// one block, a buffer that outgrows it moves to its own allocation (a big buffer, never pooled)
// and gives the block back, and Release() returns the memory (block to the pool, big buffer to
// the heap), so a drained buffer holds nothing. Without a pool (node connections) the memory is
// the buffer's own, kept until ShrinkIfIdle or destruction.
class Buffer {
 public:
  explicit Buffer(BufferPool* pool = nullptr) : pool_(pool) {}
  ~Buffer() { Release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  const char* data() const { return data_ + read_; }
  size_t size() const { return write_ - read_; }
  bool empty() const { return write_ == read_; }
  size_t capacity() const { return capacity_; }

  // Returns room for at least `min_space` bytes at the back; fill it, then Commit(). Inline, like
  // Append and Consume below: every request and reply passes through them, and the room is
  // nearly always there already.
  char* PrepareWrite(size_t min_space) {
    if (capacity_ - write_ < min_space) {
      // The common case of a client buffer: its first write since it was drained borrows a
      // block (inline: at pipeline depth 1 that is every read and every reply).
      if (data_ == nullptr && pool_ != nullptr && min_space <= BufferPool::kBlockSize) {
        data_ = pool_->Lend();
        pooled_ = true;
        capacity_ = BufferPool::kBlockSize;
      } else {
        Reserve(min_space);
      }
    }
    return data_ + write_;
  }
  size_t writable() const { return capacity_ - write_; }
  void Commit(size_t n) { write_ += n; }

  void Append(const char* bytes, size_t n) {
    if (n == 0) return;
    CopyBytes(PrepareWrite(n), bytes, n);
    write_ += n;
  }
  void Append(std::string_view bytes) { Append(bytes.data(), bytes.size()); }
  void Consume(size_t n) {
    read_ += n;
    if (read_ >= write_) read_ = write_ = 0;
  }
  void Clear() { read_ = write_ = 0; }

  // Frees the memory when the buffer is empty and larger than `keep`, so one huge value does not
  // pin its memory to an idle connection.
  void ShrinkIfIdle(size_t keep);
  // Gives the memory back (a pooled block to the pool, anything else to the heap) and forgets
  // the bytes; the next write takes memory again. Callers release drained buffers only. Inline:
  // a client buffer is released after every read and every flush.
  void Release() {
    if (data_ == nullptr) return;
    if (!pooled_) {
      ReleaseOwn();
      return;
    }
    pool_->Return(data_);
    data_ = nullptr;
    pooled_ = false;
    capacity_ = read_ = write_ = 0;
  }
  // Whether the buffer holds memory now (a pool block or its own).
  bool holds_memory() const { return data_ != nullptr; }

 private:
  // PrepareWrite's slow path: slides the unread bytes to the front or grows.
  void Reserve(size_t min_space);
  void Grow(size_t capacity);
  void ReleaseOwn();

  BufferPool* const pool_;
  bool pooled_ = false;  // data_ is a block of pool_
  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t read_ = 0;
  size_t write_ = 0;
};

}  // namespace slotplane::dataplane
