#include "controlplane/auth/token_auth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace slotplane::control {
namespace {

TEST(TokenAuthTest, OpenAllowsEverything) {
  const TokenAuth auth = TokenAuth::Open(kAdminToken);
  EXPECT_TRUE(auth.open());
  EXPECT_TRUE(auth.CheckHeader("").ok());
  EXPECT_TRUE(auth.CheckHeader("Bearer whatever").ok());
}

TEST(TokenAuthTest, TokenCompare) {
  const TokenAuth auth = TokenAuth::WithToken(kAdminToken, "s3cret-token");
  EXPECT_FALSE(auth.open());
  EXPECT_TRUE(auth.CheckHeader("Bearer s3cret-token").ok());
  EXPECT_TRUE(auth.CheckHeader("bearer s3cret-token").ok()) << "the scheme is case-insensitive";
  for (const char* header : {"", "Bearer", "Bearer ", "Bearer s3cret-toke", "Bearer s3cret-token2",
                             "Basic s3cret-token", "s3cret-token", "Bearer S3CRET-TOKEN"}) {
    grpc::Status status = auth.CheckHeader(header);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "'" << header << "'";
    EXPECT_EQ(status.error_message().find("s3cret"), std::string::npos)
        << "the token is never echoed";
  }
}

TEST(TokenAuthTest, LoadFromFileAndEnvironment) {
  char path[] = "/tmp/slotplane-token-test.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "  file-token\n";
  }
  unsetenv("SLOTPLANE_ADMIN_TOKEN");
  auto from_file = TokenAuth::Load(kAdminToken, path);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_TRUE(from_file->CheckHeader("Bearer file-token").ok());

  { std::ofstream truncate(path, std::ios::trunc); }
  auto empty = TokenAuth::Load(kAdminToken, path);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(std::string(empty.status().message()).find("is empty"), std::string::npos);
  EXPECT_FALSE(TokenAuth::Load(kAdminToken, "/nonexistent/token").ok());
  unlink(path);

  auto open = TokenAuth::Load(kAdminToken, "");
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->open());
  setenv("SLOTPLANE_ADMIN_TOKEN", "env-token", 1);
  auto from_env = TokenAuth::Load(kAdminToken, "");
  unsetenv("SLOTPLANE_ADMIN_TOKEN");
  ASSERT_TRUE(from_env.ok());
  EXPECT_TRUE(from_env->CheckHeader("Bearer env-token").ok());
  EXPECT_FALSE(from_env->CheckHeader("Bearer file-token").ok());
}

TEST(TokenAuthTest, ProxyTokenIsItsOwnKind) {
  unsetenv("SLOTPLANE_ADMIN_TOKEN");
  setenv("SLOTPLANE_PROXY_TOKEN", "proxy-env-token", 1);
  auto proxy = TokenAuth::Load(kProxyToken, "");
  auto admin = TokenAuth::Load(kAdminToken, "");
  unsetenv("SLOTPLANE_PROXY_TOKEN");
  ASSERT_TRUE(proxy.ok() && admin.ok());
  EXPECT_TRUE(admin->open()) << "the proxy token's variable does not set the admin token";
  EXPECT_TRUE(proxy->CheckHeader("Bearer proxy-env-token").ok());
  grpc::Status wrong = proxy->CheckHeader("Bearer admin");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wrong.error_message(), "wrong proxy token");
  EXPECT_NE(proxy->CheckHeader("").error_message().find("the watch stream needs the proxy token"),
            std::string::npos);
  EXPECT_TRUE(
      TokenAuth::WithToken(kProxyToken, "t").SameToken(TokenAuth::WithToken(kAdminToken, "t")));
  EXPECT_FALSE(proxy->SameToken(*admin));
}

}  // namespace
}  // namespace slotplane::control
