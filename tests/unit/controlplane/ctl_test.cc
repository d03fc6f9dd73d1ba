#include <gtest/gtest.h>

#include "controlplane/ctl/admin_client.h"
#include "controlplane/ctl/ctl_args.h"
#include "controlplane/ctl/json.h"
#include "controlplane/ctl/table.h"

namespace slotplane::ctl {
namespace {

absl::StatusOr<CtlArgs> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "slotplanectl");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseCtlArgs(static_cast<int>(argv.size()), argv.data());
}

TEST(CtlArgsTest, GlobalFlagsAnywhere) {
  unsetenv("SLOTPLANE_CONTROL_ADDR");
  auto args = Parse({"config", "--json", "set", "maxclients", "5", "--addr=10.0.0.1:7700",
                     "--expected-version", "3"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_TRUE(args->json);
  EXPECT_EQ(args->addr, "10.0.0.1:7700");
  EXPECT_EQ(args->words, (std::vector<std::string>{"config", "set", "maxclients", "5"}));
  EXPECT_EQ(args->flags.find("expected-version")->second, "3");
  auto defaults = Parse({"status"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->addr, "127.0.0.1:7700");
  EXPECT_FALSE(defaults->tls);
  setenv("SLOTPLANE_CONTROL_ADDR", "10.1.1.1:1", 1);
  EXPECT_EQ(Parse({"status"})->addr, "10.1.1.1:1");
  unsetenv("SLOTPLANE_CONTROL_ADDR");
}

TEST(CtlArgsTest, ValuesAfterDoubleDashAndNegativeNumbers) {
  auto args = Parse({"config", "set", "auth", "--", "--weird--"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->words.back(), "--weird--");
  EXPECT_EQ(Parse({"config", "set", "maxclients", "-5"})->words.back(), "-5");
}

TEST(CtlArgsTest, Errors) {
  EXPECT_EQ(std::string(Parse({}).status().message()), "no command given");
  EXPECT_EQ(std::string(Parse({"status", "--bogus"}).status().message()), "unknown flag --bogus");
  EXPECT_EQ(std::string(Parse({"status", "--addr"}).status().message()), "--addr needs a value");
  EXPECT_EQ(std::string(Parse({"status", "--json=1"}).status().message()), "--json takes no value");
  EXPECT_FALSE(Parse({"status", "--timeout", "-1"}).ok());
  EXPECT_FALSE(Parse({"status", "--tls-cert", "c"}).ok());
  EXPECT_TRUE(absl::IsCancelled(Parse({"--help"}).status()));
  EXPECT_NE(CtlUsage().find("Exit codes"), std::string::npos);
}

TEST(CtlArgsTest, TlsFlagsImplyTls) {
  EXPECT_TRUE(Parse({"status", "--tls-ca", "ca.pem"})->tls);
  EXPECT_TRUE(Parse({"status", "--insecure"})->tls);
  EXPECT_TRUE(Parse({"status", "--insecure"})->insecure);
}

TEST(CtlExitCodeTest, Mapping) {
  EXPECT_EQ(ExitCodeFor(grpc::Status::OK), kExitOk);
  for (auto code :
       {grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::ABORTED, grpc::StatusCode::NOT_FOUND,
        grpc::StatusCode::UNAUTHENTICATED, grpc::StatusCode::ALREADY_EXISTS}) {
    EXPECT_EQ(ExitCodeFor(grpc::Status(code, "")), kExitRefused);
  }
  for (auto code : {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::DEADLINE_EXCEEDED}) {
    EXPECT_EQ(ExitCodeFor(grpc::Status(code, "")), kExitUnreachable);
  }
}

TEST(CtlOutputTest, JsonEscapesAndKeepsNumbers) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  const std::string json = JsonObject()
                               .Add("version", uint64_t{18446744073709551615u})
                               .Add("ok", true)
                               .Add("name", "x")
                               .AddRaw("list", JsonArray().Add("a").Add("b").str())
                               .str();
  EXPECT_EQ(json,
            "{\"version\":18446744073709551615,\"ok\":true,\"name\":\"x\",\"list\":"
            "[\"a\",\"b\"]}");
}

TEST(CtlOutputTest, TableAlignsColumns) {
  Table table({"A", "LONG HEADER", "C"});
  table.AddRow({"value", "x", "last"});
  EXPECT_EQ(table.str(), "A      LONG HEADER  C\nvalue  x            last\n");
  EXPECT_EQ(Ago(0, 1000), "-");
  EXPECT_EQ(Ago(1000, 6000), "5s ago");
  EXPECT_EQ(Ago(0 + 1, 1 + 3600 * 1000), "60m ago");
}

}  // namespace
}  // namespace slotplane::ctl
