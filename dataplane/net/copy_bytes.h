#pragma once

#include <cstddef>
#include <cstring>

namespace slotplane::dataplane {

namespace copy_bytes_internal {

// Copies n bytes, N <= n <= 2 * N, as two fixed-size blocks that may overlap in the middle: the
// compiler makes each a register load and store.
template <size_t N>
inline void CopyOverlapping(char* dst, const char* src, size_t n) {
  char head[N];
  char tail[N];
  std::memcpy(head, src, N);
  std::memcpy(tail, src + n - N, N);
  std::memcpy(dst, head, N);
  std::memcpy(dst + n - N, tail, N);
}

}  // namespace copy_bytes_internal

// memcpy for the hot path's short runs (a command or reply of a few dozen bytes): up to 64 bytes
// are copied inline with overlapping fixed-size loads and stores, longer runs by memcpy. At these
// sizes the call into libc's memcpy costs more than the copy. Same contract as memcpy: the ranges
// do not overlap.
inline void CopyBytes(void* dst, const void* src, size_t n) {
  using copy_bytes_internal::CopyOverlapping;
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  if (n > 64) {
    std::memcpy(d, s, n);
  } else if (n >= 32) {
    CopyOverlapping<32>(d, s, n);
  } else if (n >= 16) {
    CopyOverlapping<16>(d, s, n);
  } else if (n >= 8) {
    CopyOverlapping<8>(d, s, n);
  } else if (n >= 4) {
    CopyOverlapping<4>(d, s, n);
  } else if (n > 0) {  // 1 to 3 bytes: first, middle and last
    d[0] = s[0];
    d[n / 2] = s[n / 2];
    d[n - 1] = s[n - 1];
  }
}

}  // namespace slotplane::dataplane
