#include "controlplane/admin/admin_auth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace slotplane::control {
namespace {

TEST(AdminAuthTest, OpenAllowsEverything) {
  const AdminAuth auth = AdminAuth::Open();
  EXPECT_TRUE(auth.open());
  EXPECT_TRUE(auth.CheckHeader("").ok());
  EXPECT_TRUE(auth.CheckHeader("Bearer whatever").ok());
}

TEST(AdminAuthTest, TokenCompare) {
  const AdminAuth auth = AdminAuth::WithToken("s3cret-token");
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

TEST(AdminAuthTest, LoadFromFileAndEnvironment) {
  char path[] = "/tmp/slotplane-token-test.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "  file-token\n";
  }
  unsetenv("SLOTPLANE_ADMIN_TOKEN");
  auto from_file = AdminAuth::Load(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_TRUE(from_file->CheckHeader("Bearer file-token").ok());

  { std::ofstream truncate(path, std::ios::trunc); }
  auto empty = AdminAuth::Load(path);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(std::string(empty.status().message()).find("is empty"), std::string::npos);
  EXPECT_FALSE(AdminAuth::Load("/nonexistent/token").ok());
  unlink(path);

  auto open = AdminAuth::Load("");
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->open());
  setenv("SLOTPLANE_ADMIN_TOKEN", "env-token", 1);
  auto from_env = AdminAuth::Load("");
  unsetenv("SLOTPLANE_ADMIN_TOKEN");
  ASSERT_TRUE(from_env.ok());
  EXPECT_TRUE(from_env->CheckHeader("Bearer env-token").ok());
  EXPECT_FALSE(from_env->CheckHeader("Bearer file-token").ok());
}

}  // namespace
}  // namespace slotplane::control
