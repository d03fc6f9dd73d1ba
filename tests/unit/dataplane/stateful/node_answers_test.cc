// Merging the masters' answers to PUBSUB and WAIT.

#include "dataplane/stateful/node_answers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace slotplane::dataplane {
namespace {

TEST(NodeAnswersTest, ChannelsAreJoinedOnce) {
  std::vector<std::string> answers = {"*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*0\r\n",
                                      "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"};
  EXPECT_EQ(MergePubSubAnswers("pubsub|channels", answers),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  EXPECT_EQ(MergePubSubAnswers("pubsub|shardchannels", answers),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
}

TEST(NodeAnswersTest, NumsubAddsUpPerChannel) {
  std::vector<std::string> answers = {"*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:0\r\n",
                                      "*4\r\n$1\r\na\r\n:2\r\n$1\r\nb\r\n:5\r\n"};
  EXPECT_EQ(MergePubSubAnswers("pubsub|numsub", answers),
            "*4\r\n$1\r\na\r\n:3\r\n$1\r\nb\r\n:5\r\n");
  EXPECT_EQ(MergePubSubAnswers("pubsub|numsub", {"*0\r\n", "*0\r\n"}), "*0\r\n");
}

TEST(NodeAnswersTest, NumpatAddsUp) {
  EXPECT_EQ(MergePubSubAnswers("pubsub|numpat", {":1\r\n", ":0\r\n", ":2\r\n"}), ":3\r\n");
}

TEST(NodeAnswersTest, TheFirstErrorWins) {
  EXPECT_EQ(MergePubSubAnswers("pubsub|numpat", {":1\r\n", "-ERR one\r\n", "-ERR two\r\n"}),
            "-ERR one\r\n");
  EXPECT_EQ(MergeWaitAnswers({":1\r\n", "-ERR x\r\n"}), "-ERR x\r\n");
}

TEST(NodeAnswersTest, MismatchedAnswersAreAnError) {
  std::string merged = MergePubSubAnswers(
      "pubsub|numsub", {"*2\r\n$1\r\na\r\n:1\r\n", "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:1\r\n"});
  EXPECT_EQ(merged.substr(0, 5), "-ERR ");
  EXPECT_EQ(MergePubSubAnswers("pubsub|numpat", {"+OK\r\n"}).substr(0, 5), "-ERR ");
}

TEST(NodeAnswersTest, WaitTakesTheSmallestCount) {
  EXPECT_EQ(MergeWaitAnswers({":2\r\n", ":1\r\n", ":2\r\n"}), ":1\r\n");
  EXPECT_EQ(MergeWaitAnswers({":0\r\n"}), ":0\r\n");
}

}  // namespace
}  // namespace slotplane::dataplane
