#include "dataplane/resp/reply_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace slotplane::dataplane::resp {
namespace {

TEST(ReplyReaderTest, Integer) {
  int64_t v = 0;
  EXPECT_TRUE(ReadInteger(":42\r\n", &v));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(ReadInteger(":-7\r\n", &v));
  EXPECT_EQ(v, -7);
  EXPECT_FALSE(ReadInteger("$1\r\n1\r\n", &v));
  EXPECT_FALSE(ReadInteger(":\r\n", &v));
  EXPECT_FALSE(ReadInteger(":1x\r\n", &v));
}

TEST(ReplyReaderTest, Bulk) {
  std::string_view bytes;
  bool is_null = true;
  EXPECT_TRUE(ReadBulk("$5\r\na\r\nbc\r\n", &bytes, &is_null));
  EXPECT_FALSE(is_null);
  EXPECT_EQ(bytes, "a\r\nbc");
  EXPECT_TRUE(ReadBulk("$-1\r\n", &bytes, &is_null));
  EXPECT_TRUE(is_null);
  EXPECT_TRUE(ReadBulk("$0\r\n\r\n", &bytes, &is_null));
  EXPECT_EQ(bytes, "");
  EXPECT_FALSE(ReadBulk("$5\r\nab\r\n", &bytes, &is_null));  // truncated
  EXPECT_FALSE(ReadBulk("+OK\r\n", &bytes, &is_null));
}

TEST(ReplyReaderTest, Array) {
  std::vector<std::string_view> elements;
  bool is_null = true;
  const std::string frame = "*4\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n+OK\r\n-ERR x\r\n";
  ASSERT_TRUE(ReadArray(frame, &elements, &is_null));
  EXPECT_FALSE(is_null);
  ASSERT_EQ(elements.size(), 4u);
  EXPECT_EQ(elements[0], "$1\r\na\r\n");
  EXPECT_EQ(elements[1], "*2\r\n:1\r\n$-1\r\n");
  EXPECT_EQ(elements[2], "+OK\r\n");
  EXPECT_EQ(elements[3], "-ERR x\r\n");
  ASSERT_TRUE(ReadArray("*-1\r\n", &elements, &is_null));
  EXPECT_TRUE(is_null);
  EXPECT_TRUE(elements.empty());
  EXPECT_FALSE(ReadArray("*2\r\n:1\r\n", &elements));  // missing element
  EXPECT_FALSE(ReadArray(":1\r\n", &elements));
}

TEST(ReplyReaderTest, SimpleAndErrorText) {
  std::string_view text;
  EXPECT_TRUE(ReadSimple("+PONG\r\n", &text));
  EXPECT_EQ(text, "PONG");
  EXPECT_EQ(ErrorText("-ERR bad thing\r\n"), "ERR bad thing");
}

}  // namespace
}  // namespace slotplane::dataplane::resp
