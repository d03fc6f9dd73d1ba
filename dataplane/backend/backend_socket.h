#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/cluster_view.h"
#include "common/tls_config.h"
#include "dataplane/net/batched_writer.h"
#include "dataplane/net/buffer.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/net/tls_stream.h"
#include "dataplane/resp/reply_scanner.h"

namespace slotplane::dataplane {

// How slotplane opens a connection to a cluster node: the handshake and the connect timeout.
struct BackendOptions {
  std::string auth_user;
  std::string auth_password;
  int connect_timeout_ms = 1000;
  // Send READONLY first on every (re)connect: a replica connection that serves reads.
  bool readonly = false;
  // Send HELLO 3 on every (re)connect: the connection speaks RESP3, for RESP3 clients, whose
  // replies then pass through unchanged. Sent after AUTH, before READONLY.
  bool resp3 = false;
  // tls-cluster: a client context (common/tls_config.h); the node's certificate is verified
  // against its CA and the handshake counts towards connect_timeout_ms. Null: plain TCP.
  SslContextPtr tls = nullptr;
};

// One TCP connection to a cluster node, below both connection kinds (the shared BackendConn and
// the PrivateConn that carries one client's state). It owns the fd and everything that is the
// same for both: the non-blocking connect with its timeout, the handshake (AUTH with the backend
// credentials, HELLO 3 for RESP3 connections, READONLY for replica reads) whose replies it consumes
// itself, buffered and gathered writes, reading and framing whole RESP replies, and the epoll
// interest. What happens next (reconnecting, matching replies to requests, handing frames to a
// client) is its owner's.
//
// Events go to the owner's Listener, always after the socket has closed itself when the
// connection is gone, so the owner may Connect() again, or Close(), from inside any callback.
// Connect() never reports: an immediate failure is its return value.
//
// The raw byte transfer is ReadSome() and WriteSome(), and nothing else touches the fd for data:
// with TLS (BackendOptions::tls) they go through a TlsStream, after a handshake that is part of
// connecting; plain TCP pays one branch per transfer. With the io_uring engine a plain-TCP
// socket's Flush() queues a batched write (EventLoop::QueueWrite) instead of calling writev(2):
// the bytes are gathered at the end of the loop pass and consumed when the result comes back.
//
// Owned and used by one worker thread only; registered with that worker's EventLoop itself.
class BackendSocket final : public EventHandler, public BatchedWriter {
 public:
  // What the socket reports. Callbacks run on the worker thread, from inside OnEvents(), the
  // connect timer or Flush(); never from inside Connect(), Write() or Close().
  class Listener {
   public:
    // The TCP connect (and TLS handshake) completed; the handshake and whatever was queued are
    // being written (the socket flushes after this returns). The handshake replies are still owed:
    // an AUTH error can still come as OnSocketFailed.
    virtual void OnSocketConnected() = 0;
    // One whole RESP frame that is not a handshake reply. `frame` is valid only during the call;
    // the owner may Close() (and then Connect() again) from inside it.
    virtual void OnSocketFrame(std::string_view frame) = 0;
    // The connection could not be opened: connect error, timeout ("connect timed out after N
    // ms"), or the node rejected the handshake ("AUTH rejected: <error text>", "HELLO 3
    // rejected: <error text>").
    virtual void OnSocketFailed(const std::string& reason) = 0;
    // An open connection went away: closed by the node, an I/O error, or a malformed reply.
    virtual void OnSocketLost(const std::string& reason) = 0;

   protected:
    ~Listener() = default;
  };

  // Bytes the owner keeps in its own memory (the shared connection's FIFO of Requests) and the
  // socket writes without copying, after its own buffer. Called from Flush() only.
  class WriteSource {
   public:
    // Fills at most `max` iovecs with the bytes still to be written, in order; returns how many.
    virtual int GatherUnsent(iovec* iov, int max) = 0;
    // The first `n` bytes of what GatherUnsent() described went out.
    virtual void ConsumeUnsent(size_t n) = 0;
    virtual bool HasUnsent() const = 0;

   protected:
    ~WriteSource() = default;
  };

  // `keep_idle_buffer`: the buffer memory an idle socket keeps (one huge value must not pin its
  // memory to a quiet connection). `source` may be null: then only Write() bytes are sent.
  BackendSocket(EventLoop* loop, NodeAddress address, Listener* listener, WriteSource* source,
                size_t keep_idle_buffer);
  ~BackendSocket();
  BackendSocket(const BackendSocket&) = delete;
  BackendSocket& operator=(const BackendSocket&) = delete;

  // Starts a non-blocking connect and queues the handshake `options` ask for. On an error
  // (e.g. an address that cannot be resolved) the socket stays closed and nothing is reported.
  // The socket must be closed.
  absl::Status Connect(const BackendOptions& options);
  // Queues bytes in the socket's own buffer, written before the WriteSource's on the next
  // Flush(). Dropped when the socket is closed.
  void Write(std::string_view bytes);
  // Writes what is queued (its buffer, then the WriteSource) with writev until done or the
  // kernel buffer is full; a no-op until connected. A write error reports OnSocketLost.
  void Flush();
  // Closes the fd now, dropping buffered bytes and the connect timer, without reporting.
  void Close();

  void OnEvents(uint32_t events) override;
  int GatherWrite(iovec* iov, int max) override;
  void OnWritten(ssize_t result) override;

  const NodeAddress& address() const { return address_; }
  const std::string& address_text() const { return address_text_; }
  bool open() const { return state_ != State::kClosed; }
  bool connecting() const { return state_ == State::kConnecting || state_ == State::kTlsHandshake; }
  bool connected() const { return state_ == State::kConnected; }
  // Handshake replies still expected before frames go to the owner.
  bool handshake_pending() const { return handshake_size_ > handshake_done_; }
  // Nothing in the socket's own buffer waits to be written, nothing was read beyond the frame
  // being delivered, and no handshake reply is owed. (The WriteSource is the owner's to check.)
  bool quiet() const {
    return output_.empty() && input_.size() == delivering_size_ && !handshake_pending();
  }

 private:
  enum class State : uint8_t { kClosed, kConnecting, kTlsHandshake, kConnected };
  // The commands of the handshake, in the order they are sent and answered.
  enum class HandshakeStep : uint8_t { kAuth, kHello3, kReadonly };
  static constexpr int kMaxHandshakeSteps = 3;

  void QueueHandshake(const BackendOptions& options);
  void OnConnectDone();
  void ContinueHandshake();
  void OnConnected();
  void ReadFrames();
  // Both return false when the connection closed (or was reopened) meanwhile.
  bool DeliverFrames();
  bool HandshakeReply(std::string_view frame);
  void UpdateInterest();
  // io_uring and plain TCP: writes go out as batched writes.
  bool BatchesWrites() const { return tls_ == nullptr && loop_->batches_writes(); }
  bool HasOutput() const;
  void QueueBatchedWrite();
  // After `written` of the gathered bytes went out: consumes them from the buffer, then the source.
  void ConsumeWritten(size_t written, size_t from_buffer_max);
  void Fail(const std::string& reason);
  void Lose(const std::string& reason);

  // The raw transfer: read(2) and writev(2) semantics, errno included.
  ssize_t ReadSome(char* data, size_t size);
  ssize_t WriteSome(const iovec* iov, int count);
  // Why the last transfer failed: errno's text, or TLS's reason.
  std::string TransferError() const;

  EventLoop* loop_;
  NodeAddress address_;
  std::string address_text_;
  Listener* listener_;
  WriteSource* source_;
  size_t keep_idle_buffer_;
  State state_ = State::kClosed;
  int fd_ = -1;
  std::unique_ptr<TlsStream> tls_;  // null: plain TCP
  SslContextPtr tls_context_;       // of the connection being opened
  uint32_t registered_events_ = 0;  // the epoll mask currently set for fd_
  bool write_queued_ = false;       // batched: a write is queued or in flight
  bool write_blocked_ = false;      // batched: the last write was short; waiting for EPOLLOUT
  // What the batched write in flight gathered: its connection, bytes from output_, bytes in all.
  uint64_t gathered_generation_ = 0;
  size_t gathered_buffer_ = 0;
  size_t gathered_total_ = 0;
  // Bumped by Close(): a read or write loop that sees it change after a callback stops.
  uint64_t generation_ = 0;
  int connect_timeout_ms_ = 0;
  EventLoop::TimerId connect_timer_ = 0;
  HandshakeStep handshake_[kMaxHandshakeSteps] = {};
  uint8_t handshake_size_ = 0;
  uint8_t handshake_done_ = 0;
  size_t delivering_size_ = 0;  // size of the frame being delivered, still in input_
  Buffer output_;
  Buffer input_;
  ReplyScanner scanner_;
};

// Logs that the node at `address_text` answered the error `frame` to a command of slotplane's own
// (ASKING or READONLY); the connection goes on.
void LogOwnCommandError(std::string_view address_text, std::string_view frame);

}  // namespace slotplane::dataplane
