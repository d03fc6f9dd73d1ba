#include "dataplane/control/snapshot_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

class SnapshotCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/slotplane-cache-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/snapshot";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string dir_;
  std::string path_;
};

TEST_F(SnapshotCacheTest, RoundTrip) {
  v1::Snapshot snapshot;
  snapshot.set_version(17);
  snapshot.set_nonce("n");
  snapshot.mutable_config()->mutable_policy()->set_enable_cross_slot(true);
  ASSERT_TRUE(SaveSnapshotCache(path_, "127.0.0.1:5000", snapshot).ok());
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the cache holds credentials";
  auto loaded = LoadSnapshotCache(path_, "127.0.0.1:5000");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->version(), 17u);
  EXPECT_TRUE(loaded->config().policy().enable_cross_slot());

  // Overwriting leaves no temporary file behind.
  snapshot.set_version(18);
  ASSERT_TRUE(SaveSnapshotCache(path_, "127.0.0.1:5000", snapshot).ok());
  EXPECT_EQ(LoadSnapshotCache(path_, "127.0.0.1:5000")->version(), 18u);
  EXPECT_EQ(std::system(("test $(ls " + dir_ + " | wc -l) -eq 1").c_str()), 0);
}

TEST_F(SnapshotCacheTest, MissingForeignAndDamagedFiles) {
  EXPECT_TRUE(absl::IsNotFound(LoadSnapshotCache(path_, "a:1").status()));
  v1::Snapshot snapshot;
  snapshot.set_version(1);
  ASSERT_TRUE(SaveSnapshotCache(path_, "a:1", snapshot).ok());
  auto foreign = LoadSnapshotCache(path_, "b:2");
  EXPECT_TRUE(absl::IsFailedPrecondition(foreign.status())) << foreign.status();
  std::ofstream(path_) << "not a cache\n";
  EXPECT_TRUE(absl::IsDataLoss(LoadSnapshotCache(path_, "a:1").status()));
  std::ofstream(path_) << "slotplane-snapshot-cache 1 a:1\n\xff\xff\xff";
  EXPECT_TRUE(absl::IsDataLoss(LoadSnapshotCache(path_, "a:1").status()));
}

}  // namespace
}  // namespace slotplane::dataplane
