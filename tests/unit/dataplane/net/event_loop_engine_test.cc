// EventLoop on each engine (epoll, io_uring): level-triggered readiness (bytes left unread are
// signalled again), Modify and Remove (no event reaches a removed handler), Post from another
// thread, timers, and io_uring's batched writes (a full socket buffer gives a short write, then
// EPOLLOUT).

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/net/event_loop.h"

namespace slotplane::dataplane {
namespace {

class SocketPair {
 public:
  SocketPair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds_), 0); }
  ~SocketPair() {
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  int a() const { return fds_[0]; }
  int b() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

// Reads one byte per event, so the rest must be signalled again (level-triggered); stops the
// loop once `want` bytes arrived.
class OneByteReader : public EventHandler {
 public:
  OneByteReader(EventLoop* loop, int fd, size_t want) : loop_(loop), fd_(fd), want_(want) {}
  void OnEvents(uint32_t events) override {
    ++events_;
    if (!(events & EPOLLIN)) return;
    char c;
    if (read(fd_, &c, 1) == 1) got_.push_back(c);
    if (got_.size() == want_) loop_->Stop();
  }
  const std::string& got() const { return got_; }
  int events() const { return events_; }

 private:
  EventLoop* loop_;
  int fd_;
  size_t want_;
  std::string got_;
  int events_ = 0;
};

class EventLoopEngineTest : public ::testing::TestWithParam<IoEngine> {
 protected:
  void SetUp() override {
    if (GetParam() == IoEngine::kIoUring && !IoUringUsable()) {
      GTEST_SKIP() << "io_uring is not usable here";
    }
  }
};

TEST_P(EventLoopEngineTest, RunsTheEngineAskedFor) {
  EventLoop loop(GetParam());
  EXPECT_EQ(loop.engine(), GetParam());
  EXPECT_EQ(loop.batches_writes(), GetParam() == IoEngine::kIoUring);
}

TEST_P(EventLoopEngineTest, UnreadBytesAreSignalledAgain) {
  EventLoop loop(GetParam());
  SocketPair pair;
  OneByteReader reader(&loop, pair.b(), 5);
  ASSERT_TRUE(loop.Add(pair.b(), EPOLLIN, &reader));
  ASSERT_EQ(write(pair.a(), "hello", 5), 5);
  loop.Run();
  EXPECT_EQ(reader.got(), "hello");
  EXPECT_GE(reader.events(), 5);
}

TEST_P(EventLoopEngineTest, RemovedHandlerHearsNothingAndModifyChangesInterest) {
  EventLoop loop(GetParam());
  SocketPair removed_pair;
  SocketPair pair;
  OneByteReader removed(&loop, removed_pair.b(), 1);
  OneByteReader reader(&loop, pair.b(), 2);
  ASSERT_TRUE(loop.Add(removed_pair.b(), EPOLLIN, &removed));
  ASSERT_TRUE(loop.Add(pair.b(), 0, &reader));  // no interest yet
  ASSERT_EQ(write(removed_pair.a(), "x", 1), 1);
  ASSERT_EQ(write(pair.a(), "ab", 2), 2);
  loop.Remove(removed_pair.b());
  // The interest is switched on from a timer, in a later pass.
  loop.RunAfter(20, [&] { loop.Modify(pair.b(), EPOLLIN, &reader); });
  loop.Run();
  EXPECT_EQ(reader.got(), "ab");
  EXPECT_EQ(removed.events(), 0);
}

TEST_P(EventLoopEngineTest, PostFromAnotherThreadWakesTheLoop) {
  EventLoop loop(GetParam());
  int ran = 0;
  std::thread other([&] {
    loop.Post([&] {
      ++ran;
      loop.Stop();
    });
  });
  loop.Run();
  other.join();
  EXPECT_EQ(ran, 1);
}

// A writer that batches its bytes through the loop and follows the BatchedWriter contract: what
// it gathered is consumed only by the result; a short write waits for EPOLLOUT.
class BatchedSender : public EventHandler, public BatchedWriter {
 public:
  BatchedSender(EventLoop* loop, int fd, std::string data) : loop_(loop), fd_(fd), data_(data) {}
  void Start() {
    loop_->Add(fd_, 0, this);
    Queue();
  }
  void OnEvents(uint32_t events) override {
    if (events & EPOLLOUT) {
      ++writable_events_;
      loop_->Modify(fd_, 0, this);
      Queue();
    }
  }
  int GatherWrite(iovec* iov, int max) override {
    if (sent_ == data_.size() || max < 1) return 0;
    iov[0].iov_base = &data_[sent_];
    iov[0].iov_len = data_.size() - sent_;
    return 1;
  }
  void OnWritten(ssize_t result) override {
    queued_ = false;
    if (result == -EAGAIN || (result >= 0 && sent_ + result < data_.size())) ++short_writes_;
    if (result > 0) sent_ += static_cast<size_t>(result);
    if (result < 0 && result != -EAGAIN) {
      failed_ = true;
      return;
    }
    if (sent_ < data_.size()) loop_->Modify(fd_, EPOLLOUT, this);
  }
  size_t sent() const { return sent_; }
  int short_writes() const { return short_writes_; }
  int writable_events() const { return writable_events_; }
  bool failed() const { return failed_; }

 private:
  void Queue() {
    if (queued_ || sent_ == data_.size()) return;
    queued_ = true;
    loop_->QueueWrite(fd_, this);
  }
  EventLoop* loop_;
  int fd_;
  std::string data_;
  size_t sent_ = 0;
  bool queued_ = false;
  bool failed_ = false;
  int short_writes_ = 0;
  int writable_events_ = 0;
};

// Drains the other end a chunk per event, stops the loop when everything arrived.
class Drainer : public EventHandler {
 public:
  Drainer(EventLoop* loop, int fd, size_t want) : loop_(loop), fd_(fd), want_(want) {}
  void OnEvents(uint32_t) override {
    char chunk[4096];
    const ssize_t n = read(fd_, chunk, sizeof(chunk));
    if (n > 0) got_.append(chunk, static_cast<size_t>(n));
    if (got_.size() == want_) loop_->Stop();
  }
  const std::string& got() const { return got_; }

 private:
  EventLoop* loop_;
  int fd_;
  size_t want_;
  std::string got_;
};

TEST(EventLoopUringTest, BatchedWritesGoOnAfterTheSocketBufferFilled) {
  if (!IoUringUsable()) GTEST_SKIP() << "io_uring is not usable here";
  EventLoop loop(IoEngine::kIoUring);
  SocketPair pair;
  std::string data(8 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  BatchedSender sender(&loop, pair.a(), data);
  Drainer drainer(&loop, pair.b(), data.size());
  sender.Start();
  // The reader starts later, so the first write fills the socket buffer and comes back short.
  loop.RunAfter(20, [&] { loop.Add(pair.b(), EPOLLIN, &drainer); });
  loop.Run();
  EXPECT_FALSE(sender.failed());
  EXPECT_EQ(sender.sent(), data.size());
  EXPECT_GE(sender.short_writes(), 1);
  EXPECT_GE(sender.writable_events(), 1);
  EXPECT_TRUE(drainer.got() == data) << "the bytes arrived out of order or damaged";
}

INSTANTIATE_TEST_SUITE_P(Engines, EventLoopEngineTest,
                         ::testing::Values(IoEngine::kEpoll, IoEngine::kIoUring),
                         [](const ::testing::TestParamInfo<IoEngine>& info) {
                           return std::string(IoEngineName(info.param));
                         });

}  // namespace
}  // namespace slotplane::dataplane
