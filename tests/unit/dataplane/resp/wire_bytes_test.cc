#include "dataplane/resp/wire_bytes.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/resp/request_encoder.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kGet = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";

TEST(WireBytesTest, ShortBytesStayInline) {
  WireBytes bytes;
  const char* const inline_data = bytes.data();
  EXPECT_TRUE(bytes.empty());
  bytes.assign(kGet);
  EXPECT_EQ(bytes.view(), kGet);
  EXPECT_EQ(bytes.data(), inline_data);
  EXPECT_EQ(bytes.capacity(), WireBytes::kInline);
  bytes.assign(std::string_view());
  EXPECT_TRUE(bytes.empty());
  EXPECT_EQ(bytes.data(), inline_data);
}

TEST(WireBytesTest, LongBytesKeepTheirBufferForTheNextAssignment) {
  WireBytes bytes;
  const std::string long_value(1000, 'x');
  bytes.assign(long_value);
  EXPECT_EQ(bytes.view(), long_value);
  const char* const heap = bytes.data();
  EXPECT_GE(bytes.capacity(), long_value.size());
  // What a pooled request does between two commands: nothing is freed or allocated.
  bytes.ClearAndTrim(64 * 1024);
  EXPECT_TRUE(bytes.empty());
  bytes.assign(kGet);
  EXPECT_EQ(bytes.data(), heap);
  EXPECT_EQ(bytes.view(), kGet);
  bytes.assign(long_value.substr(1));
  EXPECT_EQ(bytes.data(), heap);
  EXPECT_EQ(bytes.view(), long_value.substr(1));
}

TEST(WireBytesTest, ClearAndTrimGivesBackBuffersOverTheLimit) {
  WireBytes bytes;
  const char* const inline_data = bytes.data();
  bytes.assign(std::string(5000, 'y'));
  bytes.ClearAndTrim(4096);
  EXPECT_TRUE(bytes.empty());
  EXPECT_EQ(bytes.data(), inline_data);
  EXPECT_EQ(bytes.capacity(), WireBytes::kInline);
}

TEST(WireBytesTest, AppendGrowsKeepingTheContents) {
  WireBytes bytes;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string piece = std::to_string(i) + ",";
    bytes.append(piece);
    expected += piece;
    ASSERT_EQ(bytes.view(), expected);
  }
  EXPECT_GT(bytes.capacity(), WireBytes::kInline);
}

TEST(WireBytesTest, AssignsFromStrings) {
  WireBytes bytes;
  bytes = std::string("+OK\r\n");
  EXPECT_EQ(std::string_view(bytes), "+OK\r\n");
  bytes = "-ERR x\r\n";
  EXPECT_EQ(bytes.size(), 8u);
}

TEST(RequestEncoderTest, BothFormsEncodeTheSameBytes) {
  const std::string value(300, 'v');
  const std::vector<std::string_view> args = {"SET", "key", value, ""};
  std::string text;
  EncodeCommand(args, &text);
  EXPECT_EQ(text, "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$300\r\n" + value + "\r\n$0\r\n\r\n");
  WireBytes bytes;
  bytes.assign("stale");
  EncodeCommand(args, &bytes);
  EXPECT_EQ(bytes.view(), text);
}

TEST(RequestEncoderTest, CommandBuiltArgumentByArgument) {
  WireBytes bytes;
  AppendCommandHeader(&bytes, 2);
  AppendCommandArg(&bytes, "GET");
  AppendCommandArg(&bytes, "key");
  EXPECT_EQ(bytes.view(), kGet);
}

}  // namespace
}  // namespace slotplane::dataplane
