#include "dataplane/net/buffer_pool.h"

#include <string>

#include "dataplane/net/buffer.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

constexpr size_t kBlock = BufferPool::kBlockSize;

std::string Contents(const Buffer& b) { return std::string(b.data(), b.size()); }

TEST(BufferPoolTest, LendReturnReusesTheBlock) {
  BufferPool pool;
  char* block = pool.Lend();
  EXPECT_EQ(pool.lent(), 1);
  EXPECT_EQ(pool.free_blocks(), 0);
  pool.Return(block);
  EXPECT_EQ(pool.lent(), 0);
  EXPECT_EQ(pool.free_blocks(), 1);
  EXPECT_EQ(pool.Lend(), block) << "a kept block is lent again";
  EXPECT_EQ(pool.free_blocks(), 0);
  pool.Return(block);
  EXPECT_EQ(pool.freed_bytes(), 0u);
}

TEST(BufferPoolTest, KeepsAtMostMaxFreeBlocks) {
  BufferPool pool(/*max_free=*/2);
  char* blocks[3] = {pool.Lend(), pool.Lend(), pool.Lend()};
  EXPECT_EQ(pool.lent(), 3);
  for (char* block : blocks) pool.Return(block);
  EXPECT_EQ(pool.lent(), 0);
  EXPECT_EQ(pool.free_blocks(), 2);
  EXPECT_EQ(pool.freed_bytes(), kBlock) << "the third block went back to the heap";
}

TEST(BufferPoolTest, PooledBufferHoldsABlockOnlyUntilReleased) {
  BufferPool pool;
  Buffer b(&pool);
  EXPECT_FALSE(b.holds_memory());
  EXPECT_EQ(pool.lent(), 0) << "a new buffer borrows nothing";
  b.Append("*1\r\n$4\r\nPING\r\n");
  EXPECT_TRUE(b.holds_memory());
  EXPECT_EQ(pool.lent(), 1);
  EXPECT_EQ(b.capacity(), kBlock);
  b.Consume(4);
  EXPECT_EQ(Contents(b), "$4\r\nPING\r\n");
  b.Consume(b.size());
  EXPECT_TRUE(b.holds_memory()) << "drained, but the owner decides when to release";
  b.Release();
  EXPECT_FALSE(b.holds_memory());
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(pool.lent(), 0);
  EXPECT_EQ(pool.free_blocks(), 1);
  b.Append("again");
  EXPECT_EQ(Contents(b), "again");
  EXPECT_EQ(pool.lent(), 1);
  EXPECT_EQ(pool.free_blocks(), 0) << "the kept block served the next write";
}

TEST(BufferPoolTest, ReadChunkFitsOneBlock) {
  BufferPool pool;
  Buffer b(&pool);
  b.PrepareWrite(kBlock);
  EXPECT_EQ(b.capacity(), kBlock);
  EXPECT_EQ(pool.lent(), 1);
  EXPECT_EQ(pool.big_buffers(), 0);
}

TEST(BufferPoolTest, BigBufferIsItsOwnAndFreedOnRelease) {
  BufferPool pool;
  Buffer b(&pool);
  b.Append("head:");
  std::string big(40 * 1024, 'v');
  b.Append(big);
  EXPECT_EQ(Contents(b), "head:" + big) << "bytes survive the move out of the block";
  EXPECT_EQ(pool.lent(), 0) << "the outgrown block went back";
  EXPECT_EQ(pool.free_blocks(), 1);
  EXPECT_EQ(pool.big_buffers(), 1);
  EXPECT_EQ(pool.big_bytes(), static_cast<int64_t>(b.capacity()));
  EXPECT_GE(b.capacity(), big.size() + 5);
  b.Append(std::string(100 * 1024, 'w'));  // grows again (realloc)
  EXPECT_EQ(pool.big_buffers(), 1);
  EXPECT_EQ(pool.big_bytes(), static_cast<int64_t>(b.capacity()));
  const size_t capacity = b.capacity();
  b.Consume(b.size());
  b.Release();
  EXPECT_EQ(pool.big_buffers(), 0);
  EXPECT_EQ(pool.big_bytes(), 0);
  EXPECT_EQ(pool.free_blocks(), 1) << "a big buffer is never pooled";
  EXPECT_EQ(pool.freed_bytes(), capacity);
}

TEST(BufferPoolTest, DestroyedBufferReturnsItsBlock) {
  BufferPool pool;
  {
    Buffer b(&pool);
    b.Append("partial command");
    EXPECT_EQ(pool.lent(), 1);
  }
  EXPECT_EQ(pool.lent(), 0);
  EXPECT_EQ(pool.free_blocks(), 1);
}

TEST(BufferPoolTest, UsageSumsPools) {
  BufferPool a, b;
  Buffer small(&a), big(&b);
  small.Append("x");
  big.Append(std::string(20 * 1024, 'y'));
  BufferPool::Usage usage;
  usage.Add(a);
  usage.Add(b);
  EXPECT_EQ(usage.buffers, 2);
  EXPECT_EQ(usage.bytes, static_cast<int64_t>(kBlock + big.capacity()));
  EXPECT_EQ(usage.free_bytes, 0) << "a first write bigger than a block never borrows one";
}

TEST(BufferPoolTest, UnpooledBufferKeepsItsOwnMemory) {
  Buffer b;
  b.Append("x");
  b.Consume(1);
  EXPECT_TRUE(b.holds_memory());
  b.ShrinkIfIdle(0);
  EXPECT_FALSE(b.holds_memory());
}

}  // namespace
}  // namespace slotplane::dataplane
