#include "dataplane/resp/resp2_form.h"

#include <gtest/gtest.h>

#include <string>

namespace slotplane::dataplane::resp {
namespace {

std::string Resp2(std::string_view frame) {
  std::string out = "prefix:";  // appended, never replaced
  AppendResp2Form(frame, &out);
  EXPECT_EQ(out.rfind("prefix:", 0), 0u);
  return out.substr(7);
}

// Each pair: a reply a Redis 7.0 node writes to a RESP3 connection, and what it writes for the
// same reply to a RESP2 connection.
TEST(Resp2FormTest, ScalarsAsRedisWritesThemInResp2) {
  EXPECT_EQ(Resp2("+OK\r\n"), "+OK\r\n");
  EXPECT_EQ(Resp2("-ERR no\r\n"), "-ERR no\r\n");
  EXPECT_EQ(Resp2(":42\r\n"), ":42\r\n");
  EXPECT_EQ(Resp2("$3\r\nab\n\r\n"), "$3\r\nab\n\r\n");
  EXPECT_EQ(Resp2("$0\r\n\r\n"), "$0\r\n\r\n");
  EXPECT_EQ(Resp2("_\r\n"), "$-1\r\n");
  EXPECT_EQ(Resp2(",1.5\r\n"), "$3\r\n1.5\r\n");
  EXPECT_EQ(Resp2(",-inf\r\n"), "$4\r\n-inf\r\n");
  EXPECT_EQ(Resp2("#t\r\n"), ":1\r\n");
  EXPECT_EQ(Resp2("#f\r\n"), ":0\r\n");
  EXPECT_EQ(Resp2("(3492890328409238509324850943850943825024385\r\n"),
            "$43\r\n3492890328409238509324850943850943825024385\r\n");
  EXPECT_EQ(Resp2("=15\r\ntxt:Some string\r\n"), "$11\r\nSome string\r\n");
  EXPECT_EQ(Resp2("!22\r\nSYNTAX invalid\r\nsyntax\r\n"), "-SYNTAX invalid  syntax\r\n");
}

TEST(Resp2FormTest, AggregatesFlattened) {
  EXPECT_EQ(Resp2("%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n"),
            "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n");
  EXPECT_EQ(Resp2("~2\r\n$1\r\nx\r\n$1\r\ny\r\n"), "*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
  EXPECT_EQ(Resp2("*0\r\n"), "*0\r\n");
  EXPECT_EQ(Resp2("%0\r\n"), "*0\r\n");
  EXPECT_EQ(Resp2("*-1\r\n"), "*-1\r\n");
  // Nested: a map of sets and maps, as CONFIG GET / MEMORY STATS-like replies.
  EXPECT_EQ(Resp2("%2\r\n$1\r\nk\r\n~1\r\n,2\r\n$1\r\nm\r\n%1\r\n$1\r\nx\r\n#t\r\n"),
            "*4\r\n$1\r\nk\r\n*1\r\n$1\r\n2\r\n$1\r\nm\r\n*2\r\n$1\r\nx\r\n:1\r\n");
  // An element after a nested aggregate still belongs to the outer one.
  EXPECT_EQ(Resp2("*3\r\n*1\r\n:1\r\n*0\r\n:2\r\n"), "*3\r\n*1\r\n:1\r\n*0\r\n:2\r\n");
}

TEST(Resp2FormTest, AttributesDropped) {
  EXPECT_EQ(Resp2("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*1\r\n:2039123\r\n"),
            "*1\r\n:2039123\r\n");
  // An attribute inside an aggregate describes the next element only.
  EXPECT_EQ(Resp2("*2\r\n|1\r\n+a\r\n*2\r\n:1\r\n:2\r\n:7\r\n:8\r\n"), "*2\r\n:7\r\n:8\r\n");
}

TEST(Resp2FormTest, StopsAtTheFrameEnd) {
  // One frame: bytes after it are not converted; a frame cut short ends where it ends.
  EXPECT_EQ(Resp2(":1\r\n:2\r\n"), ":1\r\n");
  EXPECT_EQ(Resp2("*2\r\n:1\r\n"), "*2\r\n:1\r\n");
  EXPECT_EQ(Resp2("$5\r\nab"), "");
}

TEST(Resp2FormTest, DeepNestingUsesNoStack) {
  constexpr int kDepth = 200000;
  std::string frame;
  for (int i = 0; i < kDepth; ++i) frame += "*1\r\n";
  frame += "_\r\n";
  std::string expected;
  for (int i = 0; i < kDepth; ++i) expected += "*1\r\n";
  expected += "$-1\r\n";
  EXPECT_EQ(Resp2(frame), expected);
}

}  // namespace
}  // namespace slotplane::dataplane::resp
