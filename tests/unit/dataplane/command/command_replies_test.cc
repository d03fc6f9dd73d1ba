#include "dataplane/command/command_replies.h"

#include <gtest/gtest.h>

#include <string>

#include "dataplane/command/command_table.h"
#include "dataplane/resp/reply_reader.h"
#include "dataplane/resp/reply_scanner.h"

namespace slotplane::dataplane {
namespace {

// One complete RESP frame, nothing after it.
bool IsOneFrame(std::string_view bytes) {
  ReplyScanner scanner;
  return scanner.Scan(bytes.data(), bytes.size()) == ScanStatus::kComplete &&
         scanner.frame_size() == bytes.size();
}

TEST(CommandRepliesTest, EveryTableCommandHasItsReplies) {
  for (const CommandInfo* cmd : CommandTable::Get().All()) {
    if (std::string_view(cmd->name) == "proxy") continue;  // slotplane's own
    const CommandReplies* replies = FindCommandReplies(cmd->name);
    ASSERT_NE(replies, nullptr) << cmd->name;
    for (int i = 0; i < cmd->num_subcommands; ++i) {
      EXPECT_NE(FindCommandReplies(cmd->subcommands[i].name), nullptr) << cmd->subcommands[i].name;
    }
  }
}

TEST(CommandRepliesTest, RepliesAreWellFormedAndNamed) {
  ASSERT_GT(AllCommandReplies().size(), 300u);
  std::vector<std::string_view> fields;
  for (const CommandReplies& r : AllCommandReplies()) {
    EXPECT_TRUE(IsOneFrame(r.info)) << r.name;
    EXPECT_TRUE(IsOneFrame(r.docs)) << r.name;
    ASSERT_TRUE(resp::ReadArray(r.info, &fields)) << r.name;
    ASSERT_EQ(fields.size(), 10u) << r.name;
    std::string_view name;
    bool is_null;
    ASSERT_TRUE(resp::ReadBulk(fields[0], &name, &is_null));
    EXPECT_EQ(name, r.name);
    EXPECT_EQ(r.acl_categories.substr(0, 1), "@") << r.name;
    // The RESP3 forms: the same entry (an array, flags a set) and value (a map).
    EXPECT_TRUE(IsOneFrame(r.info3)) << r.name;
    EXPECT_TRUE(IsOneFrame(r.docs3)) << r.name;
    EXPECT_EQ(r.info3.substr(0, 4), "*10\r") << r.name;
    EXPECT_NE(r.info3.find("\r\n" + std::string(r.name) + "\r\n:"), std::string::npos) << r.name;
    EXPECT_NE(r.info3.find("\r\n~"), std::string::npos) << r.name;
    EXPECT_EQ(r.docs3.substr(0, 1), "%") << r.name;
  }
}

TEST(CommandRepliesTest, FindsSubcommandsAndSortsThem) {
  const CommandReplies* get = FindCommandReplies("config|get");
  ASSERT_NE(get, nullptr);
  EXPECT_NE(get->docs.find("Get the values of configuration parameters"), std::string::npos);
  EXPECT_EQ(FindCommandReplies("nosuch"), nullptr);
  // The parent's subcommand entries are in name order (Redis lists them in hash order).
  const CommandReplies* config = FindCommandReplies("config");
  ASSERT_NE(config, nullptr);
  EXPECT_LT(config->info.find("config|get"), config->info.find("config|set"));
}

}  // namespace
}  // namespace slotplane::dataplane
