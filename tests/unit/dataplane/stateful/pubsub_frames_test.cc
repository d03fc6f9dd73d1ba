// Reading the frames a node sends on a subscribed connection, and writing Redis's confirmations.

#include "dataplane/stateful/pubsub_frames.h"

#include <gtest/gtest.h>

#include <string>

namespace slotplane::dataplane {
namespace {

TEST(PubSubFramesTest, ReadsMessages) {
  PubSubFrame f = ParsePubSubFrame("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
  EXPECT_EQ(f.kind, PubSubFrameKind::kMessage);
  EXPECT_EQ(f.type, SubscriptionType::kChannel);
  EXPECT_EQ(f.name, "news");

  f = ParsePubSubFrame("*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$1\r\nx\r\n");
  EXPECT_EQ(f.kind, PubSubFrameKind::kMessage);
  EXPECT_EQ(f.type, SubscriptionType::kPattern);
  EXPECT_EQ(f.name, "n*");
  EXPECT_EQ(f.channel, "news");

  f = ParsePubSubFrame("*3\r\n$8\r\nsmessage\r\n$3\r\n{a}\r\n$0\r\n\r\n");
  EXPECT_EQ(f.kind, PubSubFrameKind::kMessage);
  EXPECT_EQ(f.type, SubscriptionType::kShard);
  EXPECT_EQ(f.name, "{a}");
}

TEST(PubSubFramesTest, ReadsBinaryNames) {
  std::string name("a\r\n\0b", 5);
  std::string frame = "*3\r\n$7\r\nmessage\r\n$5\r\n" + name + "\r\n$1\r\nx\r\n";
  PubSubFrame f = ParsePubSubFrame(frame);
  EXPECT_EQ(f.kind, PubSubFrameKind::kMessage);
  EXPECT_EQ(f.name, name);
}

TEST(PubSubFramesTest, ReadsConfirmations) {
  PubSubFrame f = ParsePubSubFrame("*3\r\n$10\r\nssubscribe\r\n$1\r\nx\r\n:1\r\n");
  EXPECT_EQ(f.kind, PubSubFrameKind::kSubscribed);
  EXPECT_EQ(f.type, SubscriptionType::kShard);
  EXPECT_EQ(f.name, "x");

  f = ParsePubSubFrame("*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n");
  EXPECT_EQ(f.kind, PubSubFrameKind::kUnsubscribed);
  EXPECT_EQ(f.type, SubscriptionType::kPattern);

  f = ParsePubSubFrame("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(f.kind, PubSubFrameKind::kUnsubscribed);
  EXPECT_EQ(f.type, SubscriptionType::kChannel);
  EXPECT_EQ(f.name, "");
}

TEST(PubSubFramesTest, OtherFramesAreNotPubSub) {
  EXPECT_EQ(ParsePubSubFrame("+OK\r\n").kind, PubSubFrameKind::kOther);
  EXPECT_EQ(ParsePubSubFrame("-ERR x\r\n").kind, PubSubFrameKind::kOther);
  EXPECT_EQ(ParsePubSubFrame("*2\r\n$4\r\npong\r\n$0\r\n\r\n").kind, PubSubFrameKind::kOther);
  EXPECT_EQ(ParsePubSubFrame("*1\r\n$7\r\nmessage\r\n").kind, PubSubFrameKind::kOther);
  EXPECT_EQ(ParsePubSubFrame("*3\r\n$7\r\nmessage\r\n$9\r\nx\r\n").kind, PubSubFrameKind::kOther);
}

TEST(PubSubFramesTest, WritesRedisConfirmations) {
  std::string out;
  AppendSubscriptionReply(&out, SubscriptionType::kChannel, true, "news", false, 1, false);
  EXPECT_EQ(out, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
  out.clear();
  AppendSubscriptionReply(&out, SubscriptionType::kShard, false, "x", false, 0, false);
  EXPECT_EQ(out, "*3\r\n$12\r\nsunsubscribe\r\n$1\r\nx\r\n:0\r\n");
  out.clear();
  AppendSubscriptionReply(&out, SubscriptionType::kChannel, false, "", true, 2, false);
  EXPECT_EQ(out, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:2\r\n");
  out.clear();
  AppendSubscribedPong(&out, "");
  EXPECT_EQ(out, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

// Redis 7.0 in RESP3: confirmations and messages are push frames, nulls RESP3 nulls.
TEST(PubSubFramesTest, WritesResp3Pushes) {
  std::string out;
  AppendSubscriptionReply(&out, SubscriptionType::kChannel, true, "ch", false, 1, true);
  EXPECT_EQ(out, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  out.clear();
  AppendSubscriptionReply(&out, SubscriptionType::kChannel, false, "", true, 0, true);
  EXPECT_EQ(out, ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
  AssignMessagePush(&out, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  EXPECT_EQ(out, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
}

TEST(PubSubFramesTest, CommandNames) {
  EXPECT_EQ(SubscriptionCommand(SubscriptionType::kChannel, true), "SUBSCRIBE");
  EXPECT_EQ(SubscriptionCommand(SubscriptionType::kPattern, false), "PUNSUBSCRIBE");
  EXPECT_EQ(SubscriptionCommand(SubscriptionType::kShard, true), "SSUBSCRIBE");
}

}  // namespace
}  // namespace slotplane::dataplane
