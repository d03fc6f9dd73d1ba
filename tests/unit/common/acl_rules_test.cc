#include "common/acl_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/glob.h"

namespace slotplane {
namespace {

// A catalog with a few names, standing in for the command table.
class FakeCatalog : public AclCommandCatalog {
 public:
  Kind Lookup(std::string_view name) const override {
    if (name == "get" || name == "set" || name == "select") return Kind::kCommand;
    if (name == "config") return Kind::kContainer;
    if (name == "config|get" || name == "config|set") return Kind::kSubcommand;
    return Kind::kUnknown;
  }
};

absl::Status Apply(AclPermissions* p, const std::vector<std::string>& rules) {
  static const FakeCatalog catalog;
  for (const std::string& rule : rules) {
    absl::Status s = ApplyAclPermissionRule(p, rule, &catalog);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string ErrorOf(const std::vector<std::string>& rules) {
  AclPermissions p;
  absl::Status s = Apply(&p, rules);
  return s.ok() ? "OK" : std::string(s.message());
}

// Redis 7.0.15's answers to ACL SETUSER with these rules (checked with redis-server).
TEST(AclRulesTest, ErrorsAreRedisWords) {
  const std::string unknown = "Unknown command or category name in ACL";
  EXPECT_EQ(ErrorOf({"+nope"}), "Error in ACL SETUSER modifier '+nope': " + unknown);
  EXPECT_EQ(ErrorOf({"-nope"}), "Error in ACL SETUSER modifier '-nope': " + unknown);
  EXPECT_EQ(ErrorOf({"+@nope"}), "Error in ACL SETUSER modifier '+@nope': " + unknown);
  EXPECT_EQ(ErrorOf({"+@read|x"}), "Error in ACL SETUSER modifier '+@read|x': " + unknown);
  EXPECT_EQ(ErrorOf({"+"}), "Error in ACL SETUSER modifier '+': " + unknown);
  EXPECT_EQ(ErrorOf({"+@"}), "Error in ACL SETUSER modifier '+@': " + unknown);
  EXPECT_EQ(ErrorOf({"-select|0"}), "Error in ACL SETUSER modifier '-select|0': " + unknown);
  EXPECT_EQ(ErrorOf({"+config|nope"}), "Error in ACL SETUSER modifier '+config|nope': " + unknown);
  EXPECT_EQ(ErrorOf({"+config|get|x"}),
            "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand "
            "is not supported");
  EXPECT_EQ(ErrorOf({"+select|"}), "Error in ACL SETUSER modifier '+select|': Syntax error");
  EXPECT_EQ(ErrorOf({"+config|"}), "Error in ACL SETUSER modifier '+config|': Syntax error");
  EXPECT_EQ(ErrorOf({"%RR~x"}), "Error in ACL SETUSER modifier '%RR~x': Syntax error");
  EXPECT_EQ(ErrorOf({"%X~x"}), "Error in ACL SETUSER modifier '%X~x': Syntax error");
  EXPECT_EQ(ErrorOf({"%~x"}), "Error in ACL SETUSER modifier '%~x': Syntax error");
  EXPECT_NE(ErrorOf({"allkeys", "~x"})
                .find("'~x': Adding a pattern after the * pattern (or the "
                      "'allkeys' flag)"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"&*", "&x"})
                .find("'&x': Adding a pattern after the * pattern (or the "
                      "'allchannels' flag)"),
            std::string::npos);
  for (const char* ok :
       {"+get", "-config|set", "+config|get", "+select|0", "+GET", "+@ALL", "%R", "%W~", "~", "&",
        "%r~x", "nocommands", "allcommands", "skip-sanitize-payload", "clearselectors"}) {
    EXPECT_EQ(ErrorOf({ok}), "OK") << ok;
  }
}

TEST(AclRulesTest, NonPermissionRulesAreLeftToTheCaller) {
  AclPermissions p;
  for (const char* rule : {"on", "off", ">pw", "nopass", "reset", "resetpass", "x", ""}) {
    EXPECT_TRUE(absl::IsNotFound(ApplyAclPermissionRule(&p, rule, nullptr))) << rule;
  }
}

TEST(AclRulesTest, MessagesNeverShowPasswords) {
  EXPECT_EQ(AclRuleForMessage(">hunter2"), "><redacted>");
  EXPECT_EQ(AclRuleForMessage("<hunter2"), "<<redacted>");
  EXPECT_EQ(AclRuleForMessage("#abcdef"), "#<redacted>");
  EXPECT_EQ(AclRuleForMessage("!abcdef"), "!<redacted>");
  EXPECT_EQ(AclRuleForMessage("hunter2"), "<redacted>") << "a password missing its '>'";
  EXPECT_EQ(AclRuleForMessage("~app:*"), "~app:*");
  EXPECT_LT(AclRuleForMessage("+" + std::string(3 << 20, 'x')).size(), 80u);
}

TEST(AclRulesTest, KeyPatternsMergeAndReset) {
  AclPermissions p;
  ASSERT_TRUE(Apply(&p, {"~a", "~a", "%R~b", "%W~b", "%RW~*"}).ok());
  EXPECT_TRUE(p.all_keys) << "%RW~* is allkeys";
  EXPECT_TRUE(p.keys.empty());
  p = AclPermissions{};
  ASSERT_TRUE(Apply(&p, {"~a", "~a", "%R~b", "%W~b"}).ok());
  ASSERT_EQ(p.keys.size(), 2u);
  EXPECT_EQ(p.keys[1].access, kAclKeyReadWrite) << "the same pattern merges its permissions";
  ASSERT_TRUE(Apply(&p, {"resetkeys", "%R"}).ok());
  ASSERT_EQ(p.keys.size(), 1u);
  EXPECT_EQ(p.keys[0].pattern, "");
}

TEST(AclRulesTest, CanonicalRulesRebuildThePermissions) {
  const std::vector<std::vector<std::string>> inputs = {
      {},
      {"+@all", "~*", "&*"},
      {"+@read", "-get", "%R~r:*", "~a b", "&news*", "+config|get", "+select|0"},
      {"allcommands", "-@dangerous", "allkeys", "resetchannels"},
      {"+get", "nocommands", "+set"},
      {"+@all", "-@all"},
  };
  for (const auto& input : inputs) {
    AclPermissions p;
    ASSERT_TRUE(Apply(&p, input).ok());
    AclPermissions rebuilt;
    ASSERT_TRUE(Apply(&rebuilt, AclPermissionRules(p)).ok()) << AclPermissionText(p);
    EXPECT_EQ(rebuilt, p) << AclPermissionText(p);
  }
  EXPECT_TRUE(AclPermissions::Full().IsFull());
  AclPermissions none;
  EXPECT_EQ(AclPermissionText(none), "resetkeys resetchannels -@all");
}

TEST(GlobTest, RedisSemantics) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("app:*", "app:1"));
  EXPECT_FALSE(GlobMatch("app:*", "APP:1")) << "case-sensitive";
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("[a-c]x", "bx"));
  EXPECT_TRUE(GlobMatch("[c-a]x", "bx")) << "a reversed range";
  EXPECT_FALSE(GlobMatch("[^a-c]x", "bx"));
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  EXPECT_FALSE(GlobMatch("\\*", "a"));
  EXPECT_TRUE(GlobMatch("*a*b", "xxaxxb"));
  EXPECT_FALSE(GlobMatch("*a*b", "xxaxxbc"));
  EXPECT_TRUE(GlobMatch("[abc", "b")) << "an unclosed class, as Redis";
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
  // Never exponential: a pattern of many stars against a long text that almost matches.
  const std::string text(100000, 'a');
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*b", text));
}

}  // namespace
}  // namespace slotplane
