#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

#include "dataplane/net/copy_bytes.h"

namespace slotplane::dataplane {

// The RESP bytes of one command or reply that must outlive the buffer they arrived in: a
// forwarded command kept for resends (MOVED, ASK, TRYAGAIN, failover), a reply parked until the
// replies ahead of it are done. Up to kInline bytes live inside the object; longer ones go to a
// heap buffer that is kept for the next assignment (the owners, Requests, are pooled), so in the
// steady state assigning is one copy (CopyBytes): no allocation and none of std::string's
// generality (std::string::assign is a call into _M_replace, several times the cost for a 40-byte
// GET).
//
// The names follow std::string (assign, append, clear, size, data) so that it stands in for one.
// Neither copyable nor movable: the data pointer may point into the object itself.
class WireBytes {
 public:
  // A GET or SET of a short key and value, and most replies, fit.
  static constexpr size_t kInline = 64;

  WireBytes() = default;
  ~WireBytes() { Release(); }
  WireBytes(const WireBytes&) = delete;
  WireBytes& operator=(const WireBytes&) = delete;

  // Replaces the contents with `bytes`, which must not point into this object.
  void assign(const char* bytes, size_t n) {
    if (n > capacity_) Reserve(n);
    CopyBytes(data_, bytes, n);
    size_ = n;
  }
  void assign(std::string_view bytes) { assign(bytes.data(), bytes.size()); }
  WireBytes& operator=(std::string_view bytes) {
    assign(bytes);
    return *this;
  }
  void append(const char* bytes, size_t n) {
    if (size_ + n > capacity_) Grow(size_ + n);
    CopyBytes(data_ + size_, bytes, n);
    size_ += n;
  }
  void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }
  void clear() { size_ = 0; }
  // Empties it and gives back a heap buffer of more than `max_capacity` bytes, so that one huge
  // command does not pin its memory in a pool.
  void ClearAndTrim(size_t max_capacity) {
    size_ = 0;
    if (capacity_ > max_capacity) Release();
  }

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return std::string_view(data_, size_); }
  operator std::string_view() const { return view(); }  // NOLINT: stands in for std::string

 private:
  // Room for `n` bytes; the contents are lost.
  void Reserve(size_t n);
  // Room for `n` bytes, keeping the contents.
  void Grow(size_t n);
  // Back to the inline buffer.
  void Release();

  char* data_ = inline_;
  size_t size_ = 0;
  size_t capacity_ = kInline;
  char inline_[kInline];
};

}  // namespace slotplane::dataplane
