#include "dataplane/net/copy_bytes.h"

#include <gtest/gtest.h>

#include <string>

namespace slotplane::dataplane {
namespace {

// Every length through each size class and past the inline limit, at several alignments: the
// bytes arrive exactly and nothing around the destination is touched.
TEST(CopyBytesTest, CopiesExactlyTheBytesAtEveryLengthAndAlignment) {
  constexpr size_t kGuard = 16;
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n <= 200; ++n) {
      std::string source(n + offset, '\0');
      for (size_t i = 0; i < source.size(); ++i) source[i] = static_cast<char>('A' + (i * 7) % 50);
      std::string target(kGuard + n + kGuard, '#');
      CopyBytes(target.data() + kGuard + (offset % 2), source.data() + offset, n);
      SCOPED_TRACE("n=" + std::to_string(n) + " offset=" + std::to_string(offset));
      const size_t start = kGuard + (offset % 2);
      ASSERT_EQ(target.substr(start, n), source.substr(offset, n));
      ASSERT_EQ(target.substr(0, start), std::string(start, '#'));
      ASSERT_EQ(target.substr(start + n), std::string(target.size() - start - n, '#'));
    }
  }
}

}  // namespace
}  // namespace slotplane::dataplane
