#pragma once

#include <cstddef>
#include <cstdlib>
#include <string_view>

namespace slotplane::dataplane {

// A growable byte buffer with a read cursor: bytes are appended at the back and consumed from
// the front. Consuming everything rewinds to the start, so a connection in steady state reuses
// the same memory without allocating. Owned by one thread.
class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { std::free(data_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  const char* data() const { return data_ + read_; }
  size_t size() const { return write_ - read_; }
  bool empty() const { return write_ == read_; }
  size_t capacity() const { return capacity_; }

  // Returns room for at least `min_space` bytes at the back; fill it, then Commit().
  char* PrepareWrite(size_t min_space);
  size_t writable() const { return capacity_ - write_; }
  void Commit(size_t n) { write_ += n; }

  void Append(const char* bytes, size_t n);
  void Append(std::string_view bytes) { Append(bytes.data(), bytes.size()); }
  void Consume(size_t n);
  void Clear() { read_ = write_ = 0; }

  // Frees the memory when the buffer is empty and larger than `keep`, so one huge value does not
  // pin its memory to an idle connection.
  void ShrinkIfIdle(size_t keep);

 private:
  void Reserve(size_t min_space);

  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t read_ = 0;
  size_t write_ = 0;
};

}  // namespace slotplane::dataplane
