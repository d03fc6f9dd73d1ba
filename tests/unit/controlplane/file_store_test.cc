#include "controlplane/store/file_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "controlplane/policy/policy_options.h"

namespace slotplane::control {
namespace {

class FileStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/slotplane-store-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  static v1::ProxyConfig State(uint64_t version) {
    v1::ProxyConfig state;
    state.set_version(version);
    *state.mutable_policy() = DefaultPolicy();
    state.mutable_policy()->set_enable_cross_slot(version % 2 == 1);
    v1::Shard* shard = state.mutable_topology()->add_shards();
    v1::SlotRange* range = shard->add_slots();
    range->set_first(0);
    range->set_last(16383);
    shard->mutable_master()->set_host("127.0.0.1");
    shard->mutable_master()->set_port(7001);
    return state;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream data;
    data << in.rdbuf();
    return data.str();
  }

  static void WriteFile(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
  }

  std::string dir_;
};

TEST_F(FileStoreTest, FreshDirectoryLoadsNothing) {
  auto store = FileStore::Open(dir_ + "/new");
  ASSERT_TRUE(store.ok()) << store.status();
  auto loaded = (*store)->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->has_value());
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(FileStoreTest, SaveThenLoadAcrossReopen) {
  {
    auto store = FileStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Save(State(1), 0).ok());
    ASSERT_TRUE((*store)->Save(State(2), 1).ok());
  }
  auto store = FileStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  auto loaded = (*store)->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->version(), 2u);
  EXPECT_FALSE((*loaded)->policy().enable_cross_slot());
  EXPECT_EQ((*loaded)->topology().shards(0).master().port(), 7001u);
  struct stat st {};
  ASSERT_EQ(stat((*store)->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the file holds the backend password";
}

TEST_F(FileStoreTest, LeftoverTempFileIsRemovedAndTheLastSaveKept) {
  std::string temp;
  {
    auto store = FileStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Save(State(7), 0).ok());
    temp = (*store)->temp_path();
  }
  // A crash in the middle of the next save: half a file under the temporary name.
  const std::string next = FileStore::Encode(State(8));
  WriteFile(temp, next.substr(0, next.size() / 2));
  auto store = FileStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  EXPECT_NE(access(temp.c_str(), F_OK), 0) << "the temporary file is gone";
  auto loaded = (*store)->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->version(), 7u);
}

TEST_F(FileStoreTest, TruncatedFileIsAnErrorNotAnEmptyStore) {
  std::string path;
  {
    auto store = FileStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Save(State(3), 0).ok());
    path = (*store)->path();
  }
  const std::string full = ReadFile(path);
  for (size_t keep : {full.size() - 1, full.size() / 2, size_t{10}, size_t{0}}) {
    WriteFile(path, full.substr(0, keep));
    auto store = FileStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    auto loaded = (*store)->Load();
    ASSERT_FALSE(loaded.ok()) << "kept " << keep << " bytes";
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
    const std::string message(loaded.status().message());
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("Refusing to start"), std::string::npos) << message;
  }
}

TEST_F(FileStoreTest, FlippedByteFailsTheChecksum) {
  const std::string encoded = FileStore::Encode(State(4));
  std::string damaged = encoded;
  damaged[damaged.size() - 3] ^= 0x01;
  auto decoded = FileStore::Decode(damaged);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(std::string(decoded.status().message()).find("checksum"), std::string::npos);
  EXPECT_TRUE(FileStore::Decode(encoded).ok());
}

TEST_F(FileStoreTest, ForeignFilesAndFutureFormatsAreRefused) {
  EXPECT_EQ(FileStore::Decode("hello world\n").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(FileStore::Decode("slotplane-control-state 2 0 e3\n").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(FileStore::Decode(std::string(1000, 'x')).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(FileStoreTest, SecondProcessCannotShareTheDirectory) {
  auto first = FileStore::Open(dir_);
  ASSERT_TRUE(first.ok());
  // flock locks belong to the open file description: a second open conflicts like another
  // process would.
  auto second = FileStore::Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(std::string(second.status().message()).find("in use"), std::string::npos);
  first->reset();
  EXPECT_TRUE(FileStore::Open(dir_).ok()) << "the lock goes with the store";
}

TEST_F(FileStoreTest, UnusableDirectoryIsReported) {
  WriteFile(dir_ + "/file", "x");
  auto store = FileStore::Open(dir_ + "/file");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(std::string(store.status().message()).find("not a directory"), std::string::npos);
  EXPECT_FALSE(FileStore::Open("").ok());
}

}  // namespace
}  // namespace slotplane::control
