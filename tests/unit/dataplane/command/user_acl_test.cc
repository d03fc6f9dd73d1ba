#include "dataplane/command/user_acl.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "dataplane/command/acl_catalog.h"

namespace slotplane::dataplane {
namespace {

using Verdict = UserAcl::Verdict;

UserAcl Compile(const std::string& rules) {
  AclPermissions p;
  for (absl::string_view rule : absl::StrSplit(rules, ' ', absl::SkipEmpty())) {
    absl::Status s = ApplyAclPermissionRule(&p, StdView(rule), &CommandTableAclCatalog());
    EXPECT_TRUE(s.ok()) << s;
  }
  return UserAcl(p);
}

// The resolved command (subcommand for containers) of `line`, and its verdict.
Verdict Check(const UserAcl& acl, const std::string& line) {
  std::vector<std::string> words = absl::StrSplit(line, ' ');
  std::vector<std::string_view> args(words.begin(), words.end());
  const CommandTable& table = CommandTable::Get();
  const CommandInfo* cmd = table.Find(args[0]);
  EXPECT_NE(cmd, nullptr) << line;
  if (cmd->num_subcommands > 0) cmd = table.FindSubcommand(*cmd, args[1]);
  AclScratch scratch;
  return acl.Check(*cmd, args, &scratch);
}

TEST(UserAclTest, CategoriesAndCommandsInOrder) {
  const UserAcl acl = Compile("+@read -get +config|get ~*");
  EXPECT_EQ(Check(acl, "GET k"), Verdict::kDeniedCommand);
  EXPECT_EQ(Check(acl, "MGET a b"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "SET k v"), Verdict::kDeniedCommand);
  EXPECT_EQ(Check(acl, "CONFIG GET x"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "CONFIG SET x y"), Verdict::kDeniedCommand);
  EXPECT_EQ(Check(acl, "AUTH a b"), Verdict::kAllowed) << "no-auth commands are always allowed";
  EXPECT_FALSE(acl.unrestricted());
}

TEST(UserAclTest, ContainerRuleCoversSubcommandsAndFirstArgs) {
  const UserAcl acl = Compile("+config -config|set +select|0 allkeys");
  EXPECT_EQ(Check(acl, "CONFIG GET x"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "CONFIG SET x y"), Verdict::kDeniedCommand);
  EXPECT_EQ(Check(acl, "SELECT 0"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "SELECT 1"), Verdict::kDeniedCommand);
}

TEST(UserAclTest, KeyPatternsWithReadAndWrite) {
  const UserAcl acl = Compile("+@all %R~r:* %W~w:*");
  EXPECT_EQ(Check(acl, "GET r:1"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "GET w:1"), Verdict::kDeniedKey);
  EXPECT_EQ(Check(acl, "SET w:1 v"), Verdict::kAllowed) << "SET without GET only writes";
  EXPECT_EQ(Check(acl, "SET w:1 v GET"), Verdict::kDeniedKey);
  EXPECT_EQ(Check(acl, "BITFIELD r:1 GET u8 0"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "BITFIELD r:1 SET u8 0 1"), Verdict::kDeniedKey);
  EXPECT_EQ(Check(acl, "MSET w:1 a w:2 b"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "MSET w:1 a r:2 b"), Verdict::kDeniedKey) << "every key of a split command";
  EXPECT_EQ(Check(acl, "SORT r:l STORE w:s"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "SORT r:l STORE r:s"), Verdict::kDeniedKey);
  EXPECT_EQ(Check(acl, "EVAL x 1 other"), Verdict::kDeniedKey);
  EXPECT_EQ(Check(acl, "EVAL x nan other"), Verdict::kAllowed) << "bad key counts: Redis answers";
  EXPECT_EQ(Check(acl, "SPUBLISH w:1 x"), Verdict::kDeniedChannel) << "a shard channel is no key";
}

TEST(UserAclTest, Channels) {
  const UserAcl acl = Compile("+@all allkeys &news*");
  EXPECT_EQ(Check(acl, "PUBLISH news.1 x"), Verdict::kAllowed);
  EXPECT_EQ(Check(acl, "PUBLISH sport x"), Verdict::kDeniedChannel);
  EXPECT_EQ(Check(acl, "SUBSCRIBE news.1 sport"), Verdict::kDeniedChannel);
  EXPECT_EQ(Check(acl, "PSUBSCRIBE news*"), Verdict::kAllowed) << "patterns match literally";
  EXPECT_EQ(Check(acl, "PSUBSCRIBE news.*"), Verdict::kDeniedChannel);
  EXPECT_EQ(Check(acl, "UNSUBSCRIBE sport"), Verdict::kAllowed);
}

TEST(UserAclTest, FullAccessIsUnrestrictedAndAdmin) {
  EXPECT_TRUE(Compile("+@all ~* &*").unrestricted());
  EXPECT_TRUE(Compile("+@all ~* &*").AllowsCategory(kAclAdmin));
  EXPECT_FALSE(Compile("+@all -@dangerous ~* &*").AllowsCategory(kAclAdmin));
  EXPECT_FALSE(Compile("+@all -flushall ~* &*").unrestricted());
}

}  // namespace
}  // namespace slotplane::dataplane
