#include "dataplane/backend/backend_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "dataplane/net/event_loop.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kPing = "*1\r\n$4\r\nPING\r\n";

// The RESP command for `args`.
std::string Resp(const std::vector<std::string_view>& args) {
  std::string out = absl::StrCat("*", args.size(), "\r\n");
  for (std::string_view arg : args)
    absl::StrAppend(&out, "$", arg.size(), "\r\n", AbslView(arg), "\r\n");
  return out;
}

// A TCP socket on 127.0.0.1 and a kernel-chosen port, listening (or only bound).
int LoopbackSocket(bool listen_too, int backlog, uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  if (listen_too && listen(fd, backlog) != 0) return -1;
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// Records what a BackendSocket reports; the hooks script the test's side of the conversation.
class Recorder : public BackendSocket::Listener {
 public:
  void OnSocketConnected() override {
    ++connected;
    if (on_connected) on_connected();
  }
  void OnSocketFrame(std::string_view frame) override {
    frames.emplace_back(frame);
    if (on_frame) on_frame(frame);
  }
  void OnSocketFailed(const std::string& reason) override { failed = reason; }
  void OnSocketLost(const std::string& reason) override { lost = reason; }

  bool down() const { return failed.has_value() || lost.has_value(); }

  std::function<void()> on_connected;
  std::function<void(std::string_view)> on_frame;
  int connected = 0;
  std::vector<std::string> frames;
  std::optional<std::string> failed;
  std::optional<std::string> lost;
};

// Bytes held by the test and written without a copy, in chunks (like the shared connection's
// Request FIFO).
class Chunks : public BackendSocket::WriteSource {
 public:
  int GatherUnsent(iovec* iov, int max) override {
    ++gathers;
    int count = 0;
    size_t offset = offset_;
    for (size_t i = next_; i < chunks.size() && count < max; ++i, ++count) {
      iov[count].iov_base = chunks[i].data() + offset;
      iov[count].iov_len = chunks[i].size() - offset;
      offset = 0;
    }
    return count;
  }
  void ConsumeUnsent(size_t n) override {
    while (n > 0) {
      const size_t left = chunks[next_].size() - offset_;
      if (n < left) {
        offset_ += n;
        return;
      }
      n -= left;
      ++next_;
      offset_ = 0;
    }
  }
  bool HasUnsent() const override { return next_ < chunks.size(); }

  std::vector<std::string> chunks;
  int gathers = 0;

 private:
  size_t next_ = 0;
  size_t offset_ = 0;
};

// A scripted cluster node on a loopback port: one connection, handled on its own thread with
// blocking calls (each read gives up after two seconds, so a test never hangs on it).
class FakeNode {
 public:
  FakeNode() { listen_fd_ = LoopbackSocket(/*listen_too=*/true, 4, &port_); }
  // Joins the node's thread: close the socket first (it is declared after the node).
  ~FakeNode() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  // Runs `script` on the accepted connection.
  void Serve(std::function<void(FakeNode&)> script) {
    thread_ = std::thread([this, script] {
      fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd_ < 0) return;
      timeval tv{2, 0};
      setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      script(*this);
    });
  }
  // Sends `bytes` at once, then reads until the peer closes.
  void Answer(std::string bytes) {
    Serve([bytes](FakeNode& n) {
      n.Send(bytes);
      n.ReadToEnd();
    });
  }
  void Join() { thread_.join(); }

  // Reads until `n` bytes in all arrived (or the peer closed, or the read timed out).
  void ReadUntil(size_t n) {
    char chunk[4096];
    while (received.size() < n) {
      ssize_t got = read(fd_, chunk, sizeof(chunk));
      if (got <= 0) return;
      received.append(chunk, static_cast<size_t>(got));
    }
  }
  // Waits for the peer to close (or the read to time out).
  void ReadToEnd() { ReadUntil(SIZE_MAX); }
  void Send(std::string_view bytes) {
    ASSERT_EQ(write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  void Pause() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }
  void Hangup() {
    close(fd_);
    fd_ = -1;
  }

  uint16_t port() const { return port_; }
  NodeAddress address() const { return NodeAddress{"127.0.0.1", port_}; }
  std::string received;  // written by the node's thread; read after Join()

 private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  int fd_ = -1;
  std::thread thread_;
};

class BackendSocketTest : public ::testing::Test {
 protected:
  // A socket to `address`, connecting; its events go to events_.
  std::unique_ptr<BackendSocket> Open(const NodeAddress& address,
                                      const BackendOptions& options = BackendOptions{},
                                      BackendSocket::WriteSource* source = nullptr) {
    auto socket = std::make_unique<BackendSocket>(&loop_, address, &events_, source, 1024);
    const absl::Status status = socket->Connect(options);
    EXPECT_TRUE(status.ok()) << status;
    return socket;
  }

  // Runs the loop until `done` holds or `timeout_ms` passed. An EventLoop runs only once, so a
  // test drives its whole conversation from the Recorder's hooks inside this one call.
  void RunUntil(std::function<bool()> done, int timeout_ms = 5000) {
    loop_.SetBeforeSleep([this, done] {
      if (done()) loop_.Stop();
    });
    loop_.RunAfter(timeout_ms, [this] { loop_.Stop(); });
    loop_.Run();
  }
  void RunUntilFrames(size_t n, int timeout_ms = 5000) {
    RunUntil([this, n] { return events_.frames.size() >= n || events_.down(); }, timeout_ms);
  }
  void RunUntilDown() {
    RunUntil([this] { return events_.down(); });
  }

  EventLoop loop_;
  Recorder events_;
};

using Frames = std::vector<std::string>;

TEST_F(BackendSocketTest, HandshakeGoesFirstAndItsRepliesAreConsumed) {
  FakeNode node;
  const std::string handshake =
      "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$6\r\nsecret\r\n*1\r\n$8\r\nREADONLY\r\n";
  const std::string written = absl::StrCat(AbslView(kPing), "*1\r\n$4\r\nECHO");
  node.Serve([&](FakeNode& n) {
    n.ReadUntil(handshake.size() + written.size());
    n.Send("+OK\r\n+OK\r\n+PONG\r\n");
    n.ReadToEnd();
  });
  Chunks source;
  source.chunks = {"*1\r\n", "$4\r\nECHO"};
  auto socket = Open(node.address(), BackendOptions{"alice", "secret", 1000, true}, &source);
  EXPECT_TRUE(socket->connecting());
  socket->Write(kPing);
  RunUntilFrames(1);

  EXPECT_EQ(events_.connected, 1);
  EXPECT_EQ(events_.frames, Frames{"+PONG\r\n"});
  EXPECT_FALSE(events_.down());
  EXPECT_FALSE(socket->handshake_pending());
  EXPECT_TRUE(socket->quiet());
  EXPECT_FALSE(source.HasUnsent());
  socket->Close();
  node.Join();
  EXPECT_EQ(node.received, handshake + written) << "handshake, own buffer, then the source";
}

TEST_F(BackendSocketTest, FramesSplitAcrossReadsAndBatchedInOne) {
  FakeNode node;
  node.Serve([](FakeNode& n) {
    n.ReadUntil(kPing.size());
    n.Send("*2\r\n$3\r\nfoo");
    n.Pause();
    n.Send("\r\n:42\r\n");
    n.Pause();
    n.Send("-ERR no\r\n+OK\r\n");
    n.ReadToEnd();
  });
  auto socket = Open(node.address());
  socket->Write(kPing);
  RunUntilFrames(3);

  EXPECT_EQ(events_.frames, (Frames{"*2\r\n$3\r\nfoo\r\n:42\r\n", "-ERR no\r\n", "+OK\r\n"}));
  EXPECT_FALSE(events_.down());
}

TEST_F(BackendSocketTest, QuietCountsTheFrameBeingDeliveredAsRead) {
  FakeNode node;
  node.Answer("+A\r\n+B\r\n");
  auto socket = Open(node.address());
  std::vector<bool> quiet;
  events_.on_frame = [&](std::string_view) { quiet.push_back(socket->quiet()); };
  RunUntilFrames(2);

  EXPECT_EQ(quiet, (std::vector<bool>{false, true})) << "+B was unread while +A was delivered";
}

TEST_F(BackendSocketTest, CloseInsideAFrameStopsDelivery) {
  FakeNode node;
  node.Answer("+A\r\n+B\r\n");
  auto socket = Open(node.address());
  events_.on_frame = [&](std::string_view) { socket->Close(); };
  RunUntil([&] { return !socket->open(); });

  EXPECT_EQ(events_.frames, Frames{"+A\r\n"});
  EXPECT_FALSE(events_.down()) << "Close() reports nothing";
}

TEST_F(BackendSocketTest, NodeClosingIsALoss) {
  FakeNode node;
  node.Serve([](FakeNode& n) {
    n.Send("+OK\r\n");
    n.Hangup();
  });
  auto socket = Open(node.address());
  RunUntilDown();

  EXPECT_EQ(events_.frames, Frames{"+OK\r\n"});
  EXPECT_EQ(events_.lost, "closed by the node");
  EXPECT_FALSE(socket->open());
}

TEST_F(BackendSocketTest, MalformedReplyIsALoss) {
  FakeNode node;
  node.Answer("x\r\n");
  auto socket = Open(node.address());
  RunUntilDown();

  ASSERT_TRUE(events_.lost.has_value());
  EXPECT_EQ(events_.lost->rfind("malformed reply: ", 0), 0u) << *events_.lost;
  EXPECT_TRUE(events_.frames.empty());
}

TEST_F(BackendSocketTest, AuthErrorIsAConnectFailureAndHidesTheRest) {
  FakeNode node;
  node.Answer("-WRONGPASS invalid username-password pair\r\n-NOAUTH Authentication required.\r\n");
  auto socket = Open(node.address(), BackendOptions{"", "wrong", 1000, false});
  socket->Write(kPing);
  RunUntilDown();

  EXPECT_EQ(events_.connected, 1);
  EXPECT_EQ(events_.failed, "AUTH rejected: WRONGPASS invalid username-password pair");
  EXPECT_TRUE(events_.frames.empty());
}

TEST_F(BackendSocketTest, RefusedConnectFails) {
  uint16_t port = 0;
  int fd = LoopbackSocket(/*listen_too=*/false, 0, &port);  // bound, never listening
  ASSERT_GE(fd, 0);
  BackendSocket socket(&loop_, NodeAddress{"127.0.0.1", port}, &events_, nullptr, 1024);
  absl::Status status = socket.Connect(BackendOptions{});
  if (status.ok()) {
    RunUntilDown();
    EXPECT_EQ(events_.failed, "Connection refused");
    EXPECT_EQ(events_.connected, 0);
  } else {
    EXPECT_NE(status.message().find("refused"), std::string_view::npos) << status;
    EXPECT_FALSE(events_.down()) << "an immediate failure is Connect()'s result, not an event";
  }
  EXPECT_FALSE(socket.open());
  close(fd);
}

TEST_F(BackendSocketTest, UnresolvableAddressFailsInConnect) {
  BackendSocket socket(&loop_, NodeAddress{"not an address", 1}, &events_, nullptr, 1024);
  absl::Status status = socket.Connect(BackendOptions{});
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(socket.open());
  EXPECT_FALSE(events_.down());
}

TEST_F(BackendSocketTest, ConnectTimesOut) {
  // A listener with a full accept queue: the kernel drops further SYNs, so a connect hangs.
  uint16_t port = 0;
  int listen_fd = LoopbackSocket(/*listen_too=*/true, 0, &port);
  ASSERT_GE(listen_fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  auto socket = Open(NodeAddress{"127.0.0.1", port}, BackendOptions{"", "", 150, false});
  RunUntil([&] { return events_.down() || events_.connected > 0; });

  EXPECT_EQ(events_.failed, "connect timed out after 150 ms");
  EXPECT_FALSE(socket->open());
  for (int fd : fillers) close(fd);
  close(listen_fd);
}

// A standalone redis-server with a password, on a free loopback port; stopped by the suite (and
// killed with the test process, whatever happens).
class RedisServer {
 public:
  bool Start() {
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
      int fd = LoopbackSocket(/*listen_too=*/false, 0, &port_);
      if (fd < 0) return false;
      close(fd);
      pid_ = Spawn();
      if (pid_ > 0 && !WaitUp()) Stop();
    }
    return pid_ > 0;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  uint16_t port() const { return port_; }

 private:
  pid_t Spawn() {
    const std::string port = absl::StrCat(port_);
    pid_t pid = fork();
    if (pid != 0) return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, STDOUT_FILENO);
    dup2(null_fd, STDERR_FILENO);
    execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save",
           "", "--appendonly", "no", "--dir", "/tmp", "--requirepass", "secret",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  // Waits until the port accepts connections, or the server exited.
  bool WaitUp() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    for (int i = 0; i < 500; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      bool up = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      close(fd);
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

class BackendSocketRedisTest : public BackendSocketTest {
 protected:
  static void SetUpTestSuite() {
    server_ = new RedisServer();
    if (!server_->Start()) {
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) server_->Stop();
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "redis-server could not be started (is it on PATH?)";
  }
  NodeAddress address() const { return NodeAddress{"127.0.0.1", server_->port()}; }

  static RedisServer* server_;
};

RedisServer* BackendSocketRedisTest::server_ = nullptr;

TEST_F(BackendSocketRedisTest, AuthAndReadonlyThenReplies) {
  // A standalone server refuses READONLY ("cluster support disabled"): logged, not fatal.
  auto socket = Open(address(), BackendOptions{"", "secret", 1000, /*readonly=*/true});
  socket->Write(kPing);
  socket->Write(Resp({"GET", "slotplane:no-such-key"}));
  RunUntilFrames(2);

  EXPECT_EQ(events_.frames, (Frames{"+PONG\r\n", "$-1\r\n"}));
  EXPECT_FALSE(events_.down());
}

TEST_F(BackendSocketRedisTest, AuthWithUserName) {
  auto socket = Open(address(), BackendOptions{"default", "secret", 1000, false});
  socket->Write(kPing);
  RunUntilFrames(1);

  EXPECT_EQ(events_.frames, Frames{"+PONG\r\n"});
}

TEST_F(BackendSocketRedisTest, WrongPasswordIsAConnectFailure) {
  auto socket = Open(address(), BackendOptions{"", "wrong", 1000, false});
  socket->Write(kPing);
  RunUntilDown();

  ASSERT_TRUE(events_.failed.has_value());
  EXPECT_EQ(events_.failed->rfind("AUTH rejected: WRONGPASS", 0), 0u) << *events_.failed;
  EXPECT_TRUE(events_.frames.empty()) << "the NOAUTH answer to PING never reaches the owner";
}

TEST_F(BackendSocketRedisTest, GatheredWritesAndLargeReplies) {
  // More chunks than one writev takes, and a value far larger than one read.
  const std::string value(3 * 1024 * 1024 + 7, 'v');
  Chunks source;
  source.chunks.push_back(
      absl::StrCat("*3\r\n$3\r\nSET\r\n$13\r\nslotplane:big\r\n$", value.size(), "\r\n"));
  source.chunks.push_back(value);
  source.chunks.push_back("\r\n");
  for (int i = 0; i < 300; ++i) source.chunks.emplace_back(kPing);
  source.chunks.push_back(Resp({"GET", "slotplane:big"}));
  auto socket = Open(address(), BackendOptions{"", "secret", 1000, false}, &source);
  RunUntilFrames(302, 20000);

  ASSERT_EQ(events_.frames.size(), 302u);
  EXPECT_EQ(events_.frames[0], "+OK\r\n");
  EXPECT_EQ(events_.frames[150], "+PONG\r\n");
  EXPECT_EQ(events_.frames[301], absl::StrCat("$", value.size(), "\r\n", value, "\r\n"));
  EXPECT_GT(source.gathers, 2) << "one writev takes at most 128 pieces";
  EXPECT_FALSE(source.HasUnsent());
}

}  // namespace
}  // namespace slotplane::dataplane
