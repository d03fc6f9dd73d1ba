// Memory per client: a client's input and output buffers borrow a block from its worker's pool
// only while they hold bytes (net/buffer_pool.h), so idle clients hold none, a partial command
// keeps its block until it completes, buffers grown for a big value are freed once drained, and
// a burst of closed clients makes the workers give heap memory back (heap_trims). Asserted on the
// proxy's own gauges (PROXY INFO stats), never on RSS, which depends on the allocator.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

constexpr int64_t kBlock = 16 * 1024;  // BufferPool::kBlockSize
constexpr absl::Duration kSettle = absl::Seconds(30);

class ProxyMemoryTest : public SharedClusterTest {
 protected:
  // Waits until the PROXY INFO field has `want`; the error says what it was last. The client
  // asking (a new one each time) has its command in its input buffer while the proxy builds the
  // answer: that one buffer (one block) is always counted.
  absl::Status StatBecomes(const std::string& name, int64_t want) {
    return WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<int64_t> got = proxy().InfoCounter(name);
          if (!got.ok()) return got.status();
          if (*got != want) return absl::FailedPreconditionError(absl::StrCat(name, "=", *got));
          return absl::OkStatus();
        },
        kSettle);
  }
};

TEST_F(ProxyMemoryTest, IdleClientsHoldNoBuffers) {
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
    if (i == 0) {
      ASSERT_EQ(client->Command({"SET", "mem:key", std::string(100, 'v')}), Reply::Status("OK"));
    }
    ASSERT_EQ(client->Command({"GET", "mem:key"}), Reply::String(std::string(100, 'v')));
    clients.push_back(std::move(client));
  }
  // Each client's reply was written whole, so its buffers went back at once: only the asker's
  // input holds a block, and no buffer is lent for any of the 200 idle clients.
  EXPECT_OK(StatBecomes("client_buffers_lent", 1));
  EXPECT_OK(StatBecomes("client_buffer_bytes", kBlock));
  // And they still work.
  for (auto& client : clients) EXPECT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
  EXPECT_OK(StatBecomes("client_buffers_lent", 1));
}

TEST_F(ProxyMemoryTest, PartialCommandKeepsItsBufferUntilComplete) {
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
    ASSERT_EQ(client->Command({"SET", "mem:partial", "value"}), Reply::Status("OK"));
  }
  ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy().port()));
  const std::string get = EncodeCommand({"GET", "mem:partial"});
  ASSERT_OK(raw.Send(get.substr(0, get.size() - 4)));
  EXPECT_OK(StatBecomes("client_buffers_lent", 2)) << "the partial command keeps its block";
  ASSERT_OK(raw.Send(get.substr(get.size() - 4)));
  ASSERT_OK_AND_ASSIGN(ReadResult read, raw.ReadReplies(1, kSettle));
  EXPECT_EQ(read.data, "$5\r\nvalue\r\n");
  EXPECT_OK(StatBecomes("client_buffers_lent", 1)) << "parsed and answered: returned";
}

TEST_F(ProxyMemoryTest, BigValueBuffersAreFreedOnceDrained) {
  const std::string big(4 * 1024 * 1024, 'b');
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
  ASSERT_EQ(client->Command({"SET", "mem:big", big}), Reply::Status("OK"));
  ASSERT_EQ(client->Command({"GET", "mem:big"}), Reply::String(big));
  // The 4 MB input and output buffers are not pooled: freed, so only the asker's block is left.
  EXPECT_OK(StatBecomes("client_buffers_lent", 1));
  EXPECT_OK(StatBecomes("client_buffer_bytes", kBlock));
}

// In-order replies of 64 KB or more go to the socket straight from the node's buffer; what the
// socket does not take at once is copied and follows. A pipeline that mixes big and small
// replies, read only after all of it was sent (so the socket fills), arrives whole and in order.
TEST_F(ProxyMemoryTest, BigInOrderRepliesAreWrittenFromTheNodesBuffer) {
  const std::string a(1024 * 1024, 'a');
  const std::string c(3 * 1024 * 1024 + 7, 'c');
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
    ASSERT_EQ(client->Command({"SET", "mem:direct:a", a}), Reply::Status("OK"));
    ASSERT_EQ(client->Command({"SET", "mem:direct:b", "small"}), Reply::Status("OK"));
    ASSERT_EQ(client->Command({"SET", "mem:direct:c", c}), Reply::Status("OK"));
  }
  ASSERT_OK_AND_ASSIGN(const int64_t direct_before, proxy().InfoCounter("replies_written_direct"));
  ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy().port()));
  std::string pipeline;
  for (const char* key : {"mem:direct:a", "mem:direct:b", "mem:direct:c", "mem:direct:a",
                          "mem:direct:c", "mem:direct:b"}) {
    pipeline += EncodeCommand({"GET", key});
  }
  ASSERT_OK(raw.Send(pipeline));
  ASSERT_OK_AND_ASSIGN(ReadResult read, raw.ReadReplies(6, kSettle));
  const auto bulk = [](const std::string& value) {
    return absl::StrCat("$", value.size(), "\r\n", value, "\r\n");
  };
  const std::string expected =
      bulk(a) + bulk("small") + bulk(c) + bulk(a) + bulk(c) + bulk("small");
  ASSERT_EQ(read.data.size(), expected.size());
  EXPECT_TRUE(read.data == expected) << "replies out of order or corrupted";
  ASSERT_OK_AND_ASSIGN(const int64_t direct_after, proxy().InfoCounter("replies_written_direct"));
  EXPECT_GE(direct_after, direct_before + 1);
  EXPECT_OK(StatBecomes("client_buffers_lent", 1));
}

TEST_F(ProxyMemoryTest, BurstOfClosedClientsGivesMemoryBack) {
  ASSERT_OK_AND_ASSIGN(const int64_t trims_before, proxy().InfoCounter("heap_trims"));
  // 512 closed clients on one worker trigger a trim at its next cron (once a second); with two
  // workers, 1,200 clients put at least 600 on one of them.
  for (int i = 0; i < 1200; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
    ASSERT_EQ(client->Command({"PING"}), Reply::Status("PONG"));
  }
  EXPECT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<int64_t> trims = proxy().InfoCounter("heap_trims");
        if (!trims.ok()) return trims.status();
        if (*trims <= trims_before) return absl::FailedPreconditionError("no trim yet");
        return absl::OkStatus();
      },
      kSettle));
  EXPECT_OK(StatBecomes("client_buffers_lent", 1));
}

}  // namespace
}  // namespace slotplane::integration
