#include "dataplane/resp/wire_bytes.h"

#include <algorithm>

namespace slotplane::dataplane {

void WireBytes::Reserve(size_t n) {
  const size_t capacity = std::max(n, 2 * capacity_);
  char* bytes = new char[capacity];
  Release();
  data_ = bytes;
  capacity_ = capacity;
}

void WireBytes::Grow(size_t n) {
  const size_t capacity = std::max(n, 2 * capacity_);
  char* bytes = new char[capacity];
  std::memcpy(bytes, data_, size_);
  const size_t size = size_;
  Release();
  data_ = bytes;
  size_ = size;
  capacity_ = capacity;
}

void WireBytes::Release() {
  if (data_ != inline_) delete[] data_;
  data_ = inline_;
  capacity_ = kInline;
}

}  // namespace slotplane::dataplane
