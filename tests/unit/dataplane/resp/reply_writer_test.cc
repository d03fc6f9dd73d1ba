#include "dataplane/resp/reply_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace slotplane::dataplane::resp {
namespace {

// Every expected frame is what a standalone Redis 7.0 writes for the same reply in that protocol.
TEST(ReplyWriterTest, NullsPerProtocol) {
  std::string out;
  AppendNull(&out, false);
  AppendNull(&out, true);
  AppendNullArray(&out, false);
  AppendNullArray(&out, true);
  EXPECT_EQ(out, "$-1\r\n_\r\n*-1\r\n_\r\n");
}

TEST(ReplyWriterTest, AggregateHeadersPerProtocol) {
  std::string out;
  AppendMapHeader(&out, 7, false);
  AppendMapHeader(&out, 7, true);
  AppendSetHeader(&out, 3, false);
  AppendSetHeader(&out, 3, true);
  AppendPushHeader(&out, 3, false);
  AppendPushHeader(&out, 3, true);
  EXPECT_EQ(out, "*14\r\n%7\r\n*3\r\n~3\r\n*3\r\n>3\r\n");
}

TEST(ReplyWriterTest, ScalarsPerProtocol) {
  std::string out;
  AppendBoolean(&out, true, false);
  AppendBoolean(&out, false, true);
  AppendDouble(&out, "1.5", false);
  AppendDouble(&out, "1.5", true);
  EXPECT_EQ(out, ":1\r\n#f\r\n$3\r\n1.5\r\n,1.5\r\n");
}

TEST(ReplyWriterTest, VerbatimText) {
  std::string out;
  AppendVerbatim(&out, "# Server\r\n", false);
  EXPECT_EQ(out, "$10\r\n# Server\r\n\r\n");
  out.clear();
  AppendVerbatim(&out, "# Server\r\n", true);
  EXPECT_EQ(out, "=14\r\ntxt:# Server\r\n\r\n");
}

}  // namespace
}  // namespace slotplane::dataplane::resp
