// A ClientSession borrows buffer blocks from its worker's pool only while it holds bytes: a
// command read and answered leaves it holding nothing; a partial command keeps its input block.
// Driven by hand on a socketpair (no loop running): OnEvents reads, the registry flushes.

#include "dataplane/session/client_session.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/core/proxy_context.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/buffer_pool.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/command_sink.h"
#include "gtest/gtest.h"

namespace slotplane::dataplane {
namespace {

// Answers every command with its first argument as a bulk string, at once.
class EchoSink : public CommandSink {
 public:
  void Dispatch(ClientSession* client, const std::vector<std::string_view>& args,
                std::string_view) override {
    reply_.assign("$");
    reply_.append(std::to_string(args[0].size())).append("\r\n");
    reply_.append(args[0]).append("\r\n");
    client->Reply(reply_);
  }

 private:
  std::string reply_;
};

class ClientSessionBuffersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_.initial_policy = std::make_shared<ProxyPolicy>();
    worker_ = std::make_unique<WorkerContext>(0, &proxy_, proxy_.initial_policy);
    registry_ = std::make_unique<ClientRegistry>(worker_.get());
    WorkerContext::Parts parts;
    parts.loop = &loop_;
    parts.pool = &requests_;
    parts.stats = &stats_;
    parts.clients = registry_.get();
    parts.commands = &sink_;
    parts.buffers = &buffers_;
    worker_->Bind(parts);
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    peer_ = fds[1];
    client_ = registry_->Add(std::make_unique<ClientSession>(worker_.get(), fds[0], 1, "test"));
  }

  void TearDown() override {
    registry_.reset();
    if (peer_ >= 0) close(peer_);
  }

  void Send(std::string_view bytes) {
    ASSERT_EQ(write(peer_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    client_->OnEvents(EPOLLIN);
    registry_->FlushScheduled();  // what the worker does before the loop sleeps
  }

  std::string Received() {
    char data[4096];
    ssize_t n = read(peer_, data, sizeof(data));
    return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
  }

  ProxyContext proxy_;
  EventLoop loop_;
  RequestPool requests_;
  WorkerStats stats_;
  EchoSink sink_;
  BufferPool buffers_;
  std::unique_ptr<WorkerContext> worker_;
  std::unique_ptr<ClientRegistry> registry_;
  ClientSession* client_ = nullptr;
  int peer_ = -1;
};

TEST_F(ClientSessionBuffersTest, NewClientHoldsNoBuffer) {
  EXPECT_FALSE(client_->holds_buffers());
  EXPECT_EQ(buffers_.lent(), 0);
}

TEST_F(ClientSessionBuffersTest, AnsweredClientReturnsBothBlocks) {
  Send("*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(Received(), "$4\r\nPING\r\n");
  EXPECT_FALSE(client_->holds_buffers());
  EXPECT_EQ(buffers_.lent(), 0);
  // The reply was added while the command was still in the input: one block each, both back.
  EXPECT_EQ(buffers_.free_blocks(), 2);
  Send("*1\r\n$4\r\nECHO\r\n");
  EXPECT_EQ(Received(), "$4\r\nECHO\r\n");
  EXPECT_EQ(buffers_.lent(), 0);
  EXPECT_EQ(buffers_.free_blocks(), 2) << "steady state: the same blocks, nothing allocated";
}

TEST_F(ClientSessionBuffersTest, PartialCommandKeepsItsInputBlock) {
  Send("*1\r\n$4\r\nPI");
  EXPECT_TRUE(client_->holds_buffers());
  EXPECT_EQ(buffers_.lent(), 1);
  EXPECT_EQ(client_->input_buffered(), 10u) << "the query buffer still counts the bytes";
  Send("NG\r\n");
  EXPECT_EQ(Received(), "$4\r\nPING\r\n");
  EXPECT_FALSE(client_->holds_buffers());
  EXPECT_EQ(buffers_.lent(), 0);
}

TEST_F(ClientSessionBuffersTest, PipelineAnsweredTogether) {
  Send("*1\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n");
  EXPECT_EQ(Received(), "$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  EXPECT_FALSE(client_->holds_buffers());
  EXPECT_EQ(buffers_.lent(), 0);
}

TEST_F(ClientSessionBuffersTest, BigCommandBufferIsFreedNotPooled) {
  const std::string value(100 * 1024, 'x');
  const std::string command = "*1\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  std::string reply;
  size_t sent = 0;
  // The socketpair holds less than the command: write, read, repeat.
  for (int round = 0; sent < command.size() || reply.size() < command.size() - 4; ++round) {
    ASSERT_LT(round, 100000) << "stuck after " << sent << " bytes sent, " << reply.size()
                             << " received";
    if (sent < command.size()) {
      ssize_t n = write(peer_, command.data() + sent, command.size() - sent);
      if (n > 0) sent += static_cast<size_t>(n);
    }
    client_->OnEvents(EPOLLIN | EPOLLOUT);
    registry_->FlushScheduled();
    reply += Received();
  }
  EXPECT_EQ(reply, command.substr(4)) << "the bulk string, echoed";
  EXPECT_FALSE(client_->holds_buffers());
  EXPECT_EQ(buffers_.lent(), 0);
  EXPECT_EQ(buffers_.big_buffers(), 0);
  EXPECT_GT(buffers_.freed_bytes(), value.size()) << "big buffers went back to the heap";
}

}  // namespace
}  // namespace slotplane::dataplane
