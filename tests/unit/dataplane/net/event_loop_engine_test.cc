// EventLoop on each engine (epoll, io_uring): level-triggered readiness (bytes left unread are
// signalled again), Modify and Remove (no event reaches a removed handler), Post from another
// thread, timers, and io_uring's batched writes (a full socket buffer gives a short write, then
// EPOLLOUT). Sockets read through the receive ring (ReceiveInRing + Read; plain read(2) under
// epoll, the same tests on both): bytes arrive through the ring, a paused reader and one that
// reads little per event lose nothing, an 8 MB stream arrives intact, EOF and a reset are seen,
// EPOLLOUT still reaches a ring socket, a reused fd hears none of its predecessor's held bytes,
// and a tiny ring that runs dry under many senders loses nothing.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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

// A stream whose bytes say where they are, so a lost, repeated or reordered byte shows.
std::string Pattern(size_t size, size_t seed = 0) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7 + seed + i / 26) % 26);
  return data;
}

// Reads its socket through the loop (EventLoop::Read): `read_size` bytes per call, at most
// `reads_per_event` calls per event (a read cap, as the proxy's handlers have). Done at `want`
// bytes, at EOF or at an error: removes itself and counts down `remaining` (the loop stops at 0).
class RingReader : public EventHandler {
 public:
  RingReader(EventLoop* loop, int fd, size_t want, int* remaining, size_t read_size = 4096,
             int reads_per_event = 4)
      : loop_(loop),
        fd_(fd),
        want_(want),
        remaining_(remaining),
        read_size_(read_size),
        reads_per_event_(reads_per_event) {}
  void Start(uint32_t events = EPOLLIN) {
    ASSERT_TRUE(loop_->Add(fd_, events, this));
    loop_->ReceiveInRing(fd_);
  }
  void OnEvents(uint32_t events) override {
    ++events_;
    if (paused_) ++events_while_paused_;
    if (done_ || !(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
    std::string chunk(read_size_, '\0');
    for (int i = 0; i < reads_per_event_; ++i) {
      const ssize_t n = loop_->Read(fd_, chunk.data(), chunk.size());
      if (n > 0) {
        got_.append(chunk.data(), static_cast<size_t>(n));
        if (got_.size() >= want_) return Finish();
        if (pause_at_ > 0 && got_.size() >= pause_at_) {
          pause_at_ = 0;
          Pause();  // the rest of what arrived stays unread
          if (on_pause_) on_pause_();
          return;
        }
        continue;
      }
      if (n == 0) {
        eof_ = true;
        return Finish();
      }
      if (errno == EAGAIN) return;
      error_ = errno;
      return Finish();
    }
  }
  void Pause() {
    paused_ = true;
    loop_->Modify(fd_, 0, this);
  }
  // Pauses itself (from its handler) once it has `bytes`, then runs `on_pause`.
  void PauseAt(size_t bytes, std::function<void()> on_pause) {
    pause_at_ = bytes;
    on_pause_ = std::move(on_pause);
  }
  bool paused() const { return paused_; }
  void Resume() {
    paused_ = false;
    loop_->Modify(fd_, EPOLLIN, this);
  }
  const std::string& got() const { return got_; }
  bool eof() const { return eof_; }
  int error() const { return error_; }
  int events() const { return events_; }
  int events_while_paused() const { return events_while_paused_; }

 private:
  void Finish() {
    done_ = true;
    loop_->Remove(fd_);
    if (--*remaining_ == 0) loop_->Stop();
  }
  EventLoop* loop_;
  int fd_;
  size_t want_;
  int* remaining_;
  size_t read_size_;
  int reads_per_event_;
  std::string got_;
  bool done_ = false;
  bool paused_ = false;
  size_t pause_at_ = 0;
  std::function<void()> on_pause_;
  bool eof_ = false;
  int error_ = 0;
  int events_ = 0;
  int events_while_paused_ = 0;
};

// Stops the loop after a generous deadline, so a lost byte fails the test instead of hanging it.
void Watchdog(EventLoop* loop, bool* timed_out) {
  loop->RunAfter(60000, [loop, timed_out] {
    *timed_out = true;
    loop->Stop();
  });
}

// Writes all of `data` to a non-blocking socket, waiting (up to 10 s each time) for room; false
// when there was none (or `stop` was set).
bool WriteAll(int fd, std::string_view data, const std::atomic<bool>* stop = nullptr) {
  size_t sent = 0;
  while (sent < data.size()) {
    if (stop != nullptr && stop->load()) return false;
    const ssize_t n = write(fd, data.data() + sent, data.size() - sent);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) return false;
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 10000) != 1) return false;
  }
  return true;
}

// Writes from a thread of its own (the loop's reader makes the room); joined on destruction.
class BackgroundWriter {
 public:
  BackgroundWriter(int fd, std::string_view data)
      : thread_([this, fd, data] { ok_ = WriteAll(fd, data, &stop_); }) {}
  ~BackgroundWriter() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> ok_{false};
  std::thread thread_;
};

TEST_P(EventLoopEngineTest, RingBytesArriveIntact) {
  EventLoop loop(GetParam());
  SocketPair pair;
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  int remaining = 1;
  const std::string data = Pattern(100000);
  RingReader reader(&loop, pair.b(), data.size(), &remaining);
  reader.Start();
  // The bytes come while the loop runs (the first pass arms the receive before any is there).
  loop.RunAfter(10,
                [&] { EXPECT_TRUE(WriteAll(pair.a(), std::string_view(data).substr(0, 50000))); });
  loop.RunAfter(30, [&] { EXPECT_TRUE(WriteAll(pair.a(), std::string_view(data).substr(50000))); });
  loop.Run();
  EXPECT_FALSE(timed_out);
  EXPECT_TRUE(reader.got() == data) << "damaged or reordered: " << reader.got().size() << " bytes";
  const RecvRingStats stats = loop.recv_stats();
  if (GetParam() == IoEngine::kIoUring) {
    EXPECT_EQ(stats.ring_bytes, 256u * 4096 + 256 * 16);
    EXPECT_EQ(stats.received_bytes, data.size());  // every byte came through the ring
    EXPECT_EQ(stats.fallback_reads, 0u);           // and not one read(2)
    EXPECT_EQ(stats.held_bytes, 0u);
  } else {
    EXPECT_EQ(stats.received_bytes, 0u);
  }
}

// One byte per event: the rest of each ring buffer is held past its pass and heard again.
TEST_P(EventLoopEngineTest, RingBytesLeftUnreadAreSignalledAgain) {
  EventLoop loop(GetParam());
  SocketPair pair;
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  int remaining = 1;
  RingReader reader(&loop, pair.b(), 5, &remaining, 1, 1);
  reader.Start();
  loop.RunAfter(10, [&] { EXPECT_TRUE(WriteAll(pair.a(), "hello")); });
  loop.Run();
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(reader.got(), "hello");
  if (GetParam() == IoEngine::kIoUring) {
    EXPECT_GE(loop.recv_stats().held_bytes_max, 1u);
    EXPECT_EQ(loop.recv_stats().fallback_reads, 0u);
  }
}

// A reader that pauses (no EPOLLIN wanted) in its handler with most of a burst unread hears
// nothing while paused, and what arrived before and while it was paused is all there, in order,
// once it resumes (io_uring: the unread part of the ring buffers was held, not lost).
TEST_P(EventLoopEngineTest, PausedRingReaderLosesNothing) {
  EventLoop loop(GetParam());
  SocketPair pair;
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  int remaining = 1;
  const std::string data = Pattern(300000, 3);
  const std::string_view view(data);
  RingReader reader(&loop, pair.b(), data.size(), &remaining);
  std::unique_ptr<BackgroundWriter> rest;
  reader.PauseAt(4096, [&] {
    // More comes while it is paused; then it resumes, and the rest (more than the socket buffer
    // holds) follows.
    loop.RunAfter(10, [&] { EXPECT_TRUE(WriteAll(pair.a(), view.substr(50000, 50000))); });
    loop.RunAfter(40, [&] {
      EXPECT_EQ(reader.events_while_paused(), 0);
      EXPECT_EQ(reader.got().size(), 4096u);
      reader.Resume();
      rest = std::make_unique<BackgroundWriter>(pair.a(), view.substr(100000));
    });
  });
  reader.Start();
  loop.RunAfter(10, [&] { EXPECT_TRUE(WriteAll(pair.a(), view.substr(0, 50000))); });
  loop.Run();
  rest.reset();
  EXPECT_FALSE(timed_out);
  EXPECT_TRUE(reader.got() == data) << "damaged or reordered: " << reader.got().size() << " bytes";
  if (GetParam() == IoEngine::kIoUring) {
    EXPECT_GE(loop.recv_stats().held_bytes_max, 50000u - 4096);
    EXPECT_EQ(loop.recv_stats().held_bytes, 0u);
  }
}

// 8 MB through one socket, read 1000 bytes at a time and 3 reads per event: far slower than the
// ring fills, so bytes are held, the receive is throttled at its limit, the sender's batched
// writes come back short; every byte arrives once and in order, and what is held stays bounded.
TEST_P(EventLoopEngineTest, EightMegabyteStreamThroughASlowRingReader) {
  EventLoop loop(GetParam());
  SocketPair pair;
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  int remaining = 1;
  const std::string data = Pattern(8 << 20, 5);
  RingReader reader(&loop, pair.b(), data.size(), &remaining, 1000, 3);
  reader.Start();
  std::unique_ptr<BatchedSender> sender;
  std::unique_ptr<BackgroundWriter> writer;
  if (GetParam() == IoEngine::kIoUring) {
    sender = std::make_unique<BatchedSender>(&loop, pair.a(), data);
    sender->Start();
  } else {
    writer = std::make_unique<BackgroundWriter>(pair.a(), data);
  }
  loop.Run();
  writer.reset();
  EXPECT_FALSE(timed_out);
  EXPECT_TRUE(reader.got() == data) << "damaged or reordered: " << reader.got().size() << " bytes";
  if (GetParam() == IoEngine::kIoUring) {
    EXPECT_FALSE(sender->failed());
    const RecvRingStats stats = loop.recv_stats();
    EXPECT_GT(stats.received_bytes, 0u);
    EXPECT_GT(stats.held_bytes_max, 0u);
    // The hold limit (64 KB per fd) plus one pass's worth of the ring.
    EXPECT_LE(stats.held_bytes_max, 64u * 1024 + stats.ring_bytes);
    EXPECT_EQ(stats.held_bytes, 0u);
  }
}

// Bytes then EOF (the peer closes); bytes then a reset (TCP, SO_LINGER 0): the reader gets the
// bytes, then 0, or -1 with ECONNRESET, as read(2) would give.
TEST_P(EventLoopEngineTest, RingReaderSeesEofAndReset) {
  EventLoop loop(GetParam());
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  int remaining = 2;
  SocketPair pair;
  RingReader eof_reader(&loop, pair.b(), SIZE_MAX, &remaining);
  eof_reader.Start();

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const int server = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ASSERT_GE(server, 0);
  close(listener);
  RingReader reset_reader(&loop, server, SIZE_MAX, &remaining);
  reset_reader.Start();

  loop.RunAfter(10, [&] {
    EXPECT_TRUE(WriteAll(pair.a(), "bye"));
    EXPECT_TRUE(WriteAll(client, "gone"));
  });
  loop.RunAfter(30, [&] {
    shutdown(pair.a(), SHUT_WR);
    linger hard{1, 0};
    setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    close(client);
  });
  loop.Run();
  close(server);
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(eof_reader.got(), "bye");
  EXPECT_TRUE(eof_reader.eof());
  EXPECT_EQ(eof_reader.error(), 0);
  EXPECT_EQ(reset_reader.got(), "gone");
  EXPECT_FALSE(reset_reader.eof());
  EXPECT_EQ(reset_reader.error(), ECONNRESET);
}

// A ring of 4 buffers of 64 bytes and 40 sockets that each receive 20 KB at once: the ring runs
// dry again and again (-ENOBUFS: read(2) for that pass, the receive re-armed), nothing is lost.
TEST(EventLoopUringTest, ExhaustedRingLosesNothing) {
  if (!IoUringUsable()) GTEST_SKIP() << "io_uring is not usable here";
  EventLoop loop(IoEngine::kIoUring, RecvRingShape{4, 64});
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  constexpr int kSockets = 40;
  int remaining = kSockets;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::unique_ptr<RingReader>> readers;
  std::vector<std::string> sent;
  for (int i = 0; i < kSockets; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    sent.push_back(Pattern(20000, static_cast<size_t>(i)));
    readers.push_back(
        std::make_unique<RingReader>(&loop, pairs[i]->b(), sent[i].size(), &remaining, 700, 2));
    readers[i]->Start();
  }
  loop.RunAfter(10, [&] {
    for (int i = 0; i < kSockets; ++i) EXPECT_TRUE(WriteAll(pairs[i]->a(), sent[i]));
  });
  loop.Run();
  EXPECT_FALSE(timed_out);
  for (int i = 0; i < kSockets; ++i) {
    EXPECT_TRUE(readers[i]->got() == sent[i])
        << "socket " << i << ": " << readers[i]->got().size() << " bytes";
  }
  const RecvRingStats stats = loop.recv_stats();
  EXPECT_EQ(stats.ring_bytes, 4u * 64 + 4 * 16);
  EXPECT_GT(stats.no_buffers, 0u);
  EXPECT_GT(stats.received_bytes, 0u);
  EXPECT_GT(stats.fallback_reads, 0u);
  EXPECT_EQ(stats.held_bytes, 0u);
}

// A ring socket that also asks for EPOLLOUT (a connection with a blocked write) hears it, and
// its bytes still arrive through the receive; dropping EPOLLOUT again leaves the receive alone.
TEST_P(EventLoopEngineTest, RingSocketAlsoHearsEpollout) {
  EventLoop loop(GetParam());
  SocketPair pair;
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  int remaining = 1;
  RingReader reader(&loop, pair.b(), 6, &remaining);
  reader.Start(EPOLLIN | EPOLLOUT);
  loop.RunAfter(10, [&] {
    loop.Modify(pair.b(), EPOLLIN, &reader);  // EPOLLOUT off again: the receive stays
    EXPECT_TRUE(WriteAll(pair.a(), "abc"));
  });
  loop.RunAfter(30, [&] { EXPECT_TRUE(WriteAll(pair.a(), "def")); });
  loop.Run();
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(reader.got(), "abcdef");
  EXPECT_GE(reader.events(), 2);  // EPOLLOUT at least once, then the bytes
  if (GetParam() == IoEngine::kIoUring) {
    EXPECT_EQ(loop.recv_stats().received_bytes, 6u);
    EXPECT_EQ(loop.recv_stats().fallback_reads, 0u);
  }
}

// A removed ring socket's held bytes are dropped with it: a new socket that gets the same fd
// number hears only its own bytes.
TEST_P(EventLoopEngineTest, ReusedRingFdHearsOnlyItsOwnBytes) {
  EventLoop loop(GetParam());
  bool timed_out = false;
  Watchdog(&loop, &timed_out);
  auto old_pair = std::make_unique<SocketPair>();
  int old_remaining = 1;
  // Takes one byte, then pauses (io_uring: holds the rest).
  RingReader old_reader(&loop, old_pair->b(), 1000, &old_remaining, 1, 1);
  old_reader.PauseAt(1, nullptr);
  old_reader.Start();
  std::unique_ptr<SocketPair> new_pair;
  std::unique_ptr<RingReader> new_reader;
  int remaining = 1;
  loop.RunAfter(10, [&] { EXPECT_TRUE(WriteAll(old_pair->a(), "old bytes")); });
  loop.RunAfter(30, [&] {
    const int old_fd = old_pair->b();
    loop.Remove(old_fd);
    old_pair.reset();
    new_pair = std::make_unique<SocketPair>();
    EXPECT_TRUE(new_pair->a() == old_fd || new_pair->b() == old_fd) << "fd not reused";
    new_reader = std::make_unique<RingReader>(&loop, new_pair->b(), 3, &remaining);
    new_reader->Start();
    EXPECT_TRUE(WriteAll(new_pair->a(), "new"));
  });
  loop.Run();
  EXPECT_FALSE(timed_out);
  EXPECT_EQ(old_reader.got(), "o");
  ASSERT_NE(new_reader, nullptr);
  EXPECT_EQ(new_reader->got(), "new");
  if (GetParam() == IoEngine::kIoUring) {
    EXPECT_GE(loop.recv_stats().held_bytes_max, 8u);  // "ld bytes" was held, then dropped
    EXPECT_EQ(loop.recv_stats().held_bytes, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, EventLoopEngineTest,
                         ::testing::Values(IoEngine::kEpoll, IoEngine::kIoUring),
                         [](const ::testing::TestParamInfo<IoEngine>& info) {
                           return std::string(IoEngineName(info.param));
                         });

}  // namespace
}  // namespace slotplane::dataplane
