#include "common/config_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace slotplane {
namespace {

TEST(SplitConfigLineTest, SplitsLikeRedis) {
  std::vector<std::string> out;
  ASSERT_TRUE(SplitConfigLine("cluster  127.0.0.1:7000\t127.0.0.1:7001", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"cluster", "127.0.0.1:7000", "127.0.0.1:7001"}));
  ASSERT_TRUE(SplitConfigLine(R"(auth "a b\x41\n" 'c''d')", &out) == false);
  ASSERT_TRUE(SplitConfigLine(R"(auth "a b\x41\n" 'c\'d')", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"auth", "a bA\n", "c'd"}));
  EXPECT_FALSE(SplitConfigLine(R"(auth "unterminated)", &out));
  EXPECT_FALSE(SplitConfigLine(R"(auth "closed"glued)", &out));
}

TEST(ParseConfigTextTest, SkipsCommentsAndLowercasesNames) {
  auto d = ParseConfigText("# comment\n\n  PORT 7777\nlog-level debug\n", "proxy.conf");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].name, "port");
  EXPECT_EQ((*d)[0].values, std::vector<std::string>{"7777"});
  EXPECT_EQ((*d)[0].Where(), "proxy.conf:3");
  EXPECT_EQ((*d)[1].line, 4);
}

TEST(ParseConfigTextTest, ReportsFileAndLineOfBadQuotes) {
  auto d = ParseConfigText("port 1\nauth \"x\n", "p.conf");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("p.conf:2"), std::string::npos) << d.status();
}

TEST(ReadConfigFileTest, FollowsRelativeIncludes) {
  char dir[] = "/tmp/slotplane-config-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string base = dir;
  std::ofstream(base + "/main.conf") << "port 1\ninclude extra.conf\nthreads 2\n";
  std::ofstream(base + "/extra.conf") << "bind 127.0.0.1\n";
  auto d = ReadConfigFile(base + "/main.conf");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 3u);
  EXPECT_EQ((*d)[1].name, "bind");
  EXPECT_EQ((*d)[1].file, base + "/extra.conf");
  EXPECT_EQ((*d)[2].name, "threads");
  std::remove((base + "/main.conf").c_str());
  std::remove((base + "/extra.conf").c_str());
  rmdir(dir);
}

TEST(ReadConfigFileTest, MissingFileAndIncludeLoopAreErrors) {
  EXPECT_FALSE(ReadConfigFile("/nonexistent/slotplane.conf").ok());
  char dir[] = "/tmp/slotplane-config-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/self.conf";
  std::ofstream(path) << "include self.conf\n";
  auto d = ReadConfigFile(path);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("deeper"), std::string::npos) << d.status();
  std::remove(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace slotplane
