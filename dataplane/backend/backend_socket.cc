#include "dataplane/backend/backend_socket.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"
#include "dataplane/net/raw_io.h"
#include "dataplane/net/socket.h"

namespace slotplane::dataplane {
namespace {

constexpr int kMaxIovecs = 128;
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxReadsPerEvent = 16;
constexpr std::string_view kReadonly = "*1\r\n$8\r\nREADONLY\r\n";
constexpr std::string_view kHello3 = "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";

void AppendBulk(Buffer* out, std::string_view s) {
  out->Append(absl::StrCat("$", s.size(), "\r\n"));
  out->Append(s);
  out->Append("\r\n");
}

// The text of an error frame, without the leading '-' and the trailing CRLF.
std::string_view ErrorText(std::string_view frame) {
  frame.remove_prefix(1);
  while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.remove_suffix(1);
  return frame;
}

}  // namespace

void LogOwnCommandError(std::string_view address_text, std::string_view frame) {
  SP_LOG(kWarning) << "cluster node " << address_text << " answered " << ErrorText(frame)
                   << " to a command of the proxy's own (ASKING or READONLY)";
}

BackendSocket::BackendSocket(EventLoop* loop, NodeAddress address, Listener* listener,
                             WriteSource* source, size_t keep_idle_buffer)
    : loop_(loop),
      address_(std::move(address)),
      address_text_(address_.ToString()),
      listener_(listener),
      source_(source),
      keep_idle_buffer_(keep_idle_buffer) {}

BackendSocket::~BackendSocket() { Close(); }

absl::Status BackendSocket::Connect(const BackendOptions& options) {
  absl::StatusOr<int> fd = ConnectNonBlocking(address_.host, address_.port);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  state_ = State::kConnecting;
  tls_context_ = options.tls;
  QueueHandshake(options);
  registered_events_ = EPOLLOUT;
  loop_->Add(fd_, registered_events_, this);
  const int timeout_ms = options.connect_timeout_ms;
  connect_timer_ = loop_->RunAfter(timeout_ms, [this, timeout_ms] {
    connect_timer_ = 0;
    if (connecting()) {
      Fail(absl::StrCat("connect timed out after ", timeout_ms, " ms"));
    }
  });
  return absl::OkStatus();
}

// AUTH, then HELLO 3, then READONLY: written before anything the owner queued, answered in this
// order.
void BackendSocket::QueueHandshake(const BackendOptions& options) {
  handshake_size_ = handshake_done_ = 0;
  if (!options.auth_password.empty()) {
    if (options.auth_user.empty()) {
      output_.Append("*2\r\n$4\r\nAUTH\r\n");
    } else {
      output_.Append("*3\r\n$4\r\nAUTH\r\n");
      AppendBulk(&output_, options.auth_user);
    }
    AppendBulk(&output_, options.auth_password);
    handshake_[handshake_size_++] = HandshakeStep::kAuth;
  }
  if (options.resp3) {
    output_.Append(kHello3);
    handshake_[handshake_size_++] = HandshakeStep::kHello3;
  }
  if (options.readonly) {
    output_.Append(kReadonly);
    handshake_[handshake_size_++] = HandshakeStep::kReadonly;
  }
}

void BackendSocket::Write(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  output_.Append(bytes);
}

void BackendSocket::Close() {
  loop_->Cancel(connect_timer_);
  connect_timer_ = 0;
  if (fd_ >= 0) {
    loop_->Remove(fd_);  // also drops a queued batched write
    if (tls_ != nullptr) tls_->Shutdown();
    tls_.reset();
    close(fd_);
    fd_ = -1;
  }
  tls_context_.reset();
  registered_events_ = 0;
  write_queued_ = write_blocked_ = false;
  state_ = State::kClosed;
  handshake_size_ = handshake_done_ = 0;
  delivering_size_ = 0;
  input_.Clear();
  output_.Clear();
  scanner_.Reset();
  ++generation_;
}

void BackendSocket::Fail(const std::string& reason) {
  Close();
  listener_->OnSocketFailed(reason);
}

void BackendSocket::Lose(const std::string& reason) {
  Close();
  listener_->OnSocketLost(reason);
}

void BackendSocket::OnEvents(uint32_t events) {
  if (state_ == State::kConnecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnConnectDone();
    return;
  }
  if (state_ == State::kTlsHandshake) {
    ContinueHandshake();
    return;
  }
  if (state_ != State::kConnected) return;
  const uint64_t generation = generation_;
  if (tls_ != nullptr) {
    // Either direction may wait on the other (TLS reads to write and writes to read).
    ReadFrames();
    if (generation_ == generation) Flush();
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ReadFrames();
  if (generation_ == generation && (events & EPOLLOUT)) {
    write_blocked_ = false;
    Flush();
  }
}

void BackendSocket::OnConnectDone() {
  const int err = SocketError(fd_);
  if (err != 0) {
    Fail(std::strerror(err));
    return;
  }
  if (tls_context_ != nullptr) {
    absl::StatusOr<std::unique_ptr<TlsStream>> tls =
        TlsStream::Create(tls_context_.get(), fd_, TlsStream::Role::kClient, address_.host);
    tls_context_.reset();
    if (!tls.ok()) {
      Fail(std::string(tls.status().message()));
      return;
    }
    tls_ = *std::move(tls);
    state_ = State::kTlsHandshake;
    ContinueHandshake();
    return;
  }
  OnConnected();
}

// The connect timer keeps running: a node that never finishes the handshake times out as one
// that never accepts.
void BackendSocket::ContinueHandshake() {
  switch (tls_->Handshake()) {
    case TlsStream::Step::kDone:
      OnConnected();
      return;
    case TlsStream::Step::kWantRead:
    case TlsStream::Step::kWantWrite: {
      const uint32_t wanted = tls_->wants_write() ? EPOLLOUT : EPOLLIN;
      if (wanted != registered_events_) {
        registered_events_ = wanted;
        loop_->Modify(fd_, wanted, this);
      }
      return;
    }
    case TlsStream::Step::kFailed:
      Fail(absl::StrCat("TLS handshake failed: ", tls_->error()));
      return;
  }
}

void BackendSocket::OnConnected() {
  loop_->Cancel(connect_timer_);
  connect_timer_ = 0;
  state_ = State::kConnected;
  if (tls_ == nullptr) loop_->ReceiveInRing(fd_);  // io_uring: multishot receive
  const uint64_t generation = generation_;
  listener_->OnSocketConnected();
  if (generation_ == generation) Flush();
}

void BackendSocket::ReadFrames() {
  for (int i = 0; i < kMaxReadsPerEvent || (tls_ != nullptr && tls_->pending()); ++i) {
    char* space = input_.PrepareWrite(kReadChunk);
    const size_t room = input_.writable();
    const ssize_t n = ReadSome(space, room);
    if (n == 0) {
      Lose("closed by the node");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Lose(TransferError());
      return;
    }
    input_.Commit(static_cast<size_t>(n));
    if (!DeliverFrames()) return;
    // Bytes OpenSSL decrypted already: the socket will not signal them again.
    if (tls_ != nullptr && tls_->pending()) continue;
    if (static_cast<size_t>(n) < room) break;
  }
  input_.ShrinkIfIdle(keep_idle_buffer_);
}

bool BackendSocket::DeliverFrames() {
  while (!input_.empty()) {
    const ScanStatus status = scanner_.Scan(input_.data(), input_.size());
    if (status == ScanStatus::kNeedMore) break;
    if (status == ScanStatus::kError) {
      Lose(absl::StrCat("malformed reply: ", scanner_.error()));
      return false;
    }
    const size_t size = scanner_.frame_size();
    const std::string_view frame(input_.data(), size);
    if (handshake_pending()) {
      if (!HandshakeReply(frame)) return false;
    } else {
      const uint64_t generation = generation_;
      delivering_size_ = size;
      listener_->OnSocketFrame(frame);
      if (generation_ != generation) return false;  // closed: the buffer was cleared
      delivering_size_ = 0;
    }
    input_.Consume(size);
  }
  return true;
}

bool BackendSocket::HandshakeReply(std::string_view frame) {
  const HandshakeStep step = handshake_[handshake_done_++];
  if (frame[0] != '-') return true;
  if (step == HandshakeStep::kAuth) {
    Fail(absl::StrCat("AUTH rejected: ", AbslView(ErrorText(frame))));
    return false;
  }
  if (step == HandshakeStep::kHello3) {  // a node without RESP3: its replies would be RESP2
    Fail(absl::StrCat("HELLO 3 rejected: ", AbslView(ErrorText(frame))));
    return false;
  }
  LogOwnCommandError(address_text_, frame);
  return true;
}

void BackendSocket::Flush() {
  if (state_ != State::kConnected) return;
  if (BatchesWrites()) {
    QueueBatchedWrite();
    UpdateInterest();
    return;
  }
  for (;;) {
    iovec iov[kMaxIovecs];
    const int count = GatherWrite(iov, kMaxIovecs);
    if (count == 0) break;
    const ssize_t n = WriteSome(iov, count);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Lose(TransferError());
      return;
    }
    const size_t written = static_cast<size_t>(n);
    ConsumeWritten(written, gathered_buffer_);
    if (written < gathered_total_) break;  // the kernel's buffer is full
  }
  if (output_.empty()) output_.ShrinkIfIdle(keep_idle_buffer_);
  UpdateInterest();
}

bool BackendSocket::HasOutput() const {
  return !output_.empty() || (source_ != nullptr && source_->HasUnsent());
}

void BackendSocket::QueueBatchedWrite() {
  if (write_queued_ || write_blocked_ || !HasOutput()) return;
  write_queued_ = true;
  loop_->QueueWrite(fd_, this);
}

int BackendSocket::GatherWrite(iovec* iov, int max) {
  gathered_generation_ = generation_;
  gathered_buffer_ = gathered_total_ = 0;
  if (state_ != State::kConnected || max < 1) return 0;
  int count = 0;
  if (!output_.empty()) {
    iov[0].iov_base = const_cast<char*>(output_.data());
    iov[0].iov_len = output_.size();
    gathered_buffer_ = output_.size();
    count = 1;
  }
  if (source_ != nullptr) count += source_->GatherUnsent(iov + count, max - count);
  for (int i = 0; i < count; ++i) gathered_total_ += iov[i].iov_len;
  return gathered_total_ == 0 ? 0 : count;
}

// Runs before the events of the pass; writes that completed before it may have appended to the
// buffer or the source (at the back), so the gathered sizes say what was sent.
void BackendSocket::OnWritten(ssize_t result) {
  if (gathered_generation_ != generation_) return;  // closed since: not this connection's
  write_queued_ = false;
  if (state_ != State::kConnected) return;
  if (result < 0) {
    if (result != -EAGAIN && result != -EINTR) {
      Lose(std::strerror(static_cast<int>(-result)));
      return;
    }
    write_blocked_ = result == -EAGAIN;
    if (!write_blocked_) QueueBatchedWrite();
  } else {
    const size_t written = static_cast<size_t>(result);
    ConsumeWritten(written, gathered_buffer_);
    if (written < gathered_total_) {
      write_blocked_ = true;  // the kernel's buffer is full
    } else {
      QueueBatchedWrite();  // more than one write's iovecs were waiting
    }
  }
  if (output_.empty()) output_.ShrinkIfIdle(keep_idle_buffer_);
  UpdateInterest();
}

void BackendSocket::ConsumeWritten(size_t written, size_t from_buffer_max) {
  const size_t from_buffer = std::min(written, from_buffer_max);
  output_.Consume(from_buffer);
  if (written > from_buffer) source_->ConsumeUnsent(written - from_buffer);
}

void BackendSocket::UpdateInterest() {
  if (fd_ < 0) return;
  uint32_t wanted = EPOLLIN;
  // Batched writes ask for EPOLLOUT only after a short write; the others whenever output waits.
  if (BatchesWrites() ? write_blocked_ : HasOutput()) wanted |= EPOLLOUT;
  if (tls_ != nullptr && tls_->wants_write()) wanted |= EPOLLOUT;
  if (wanted == registered_events_) return;
  registered_events_ = wanted;
  loop_->Modify(fd_, wanted, this);
}

ssize_t BackendSocket::ReadSome(char* data, size_t size) {
  if (tls_ != nullptr) return tls_->Read(data, size);
  return loop_->Read(fd_, data, size);  // io_uring: what the receive ring holds
}

ssize_t BackendSocket::WriteSome(const iovec* iov, int count) {
  if (tls_ != nullptr) return tls_->Write(iov, count);
  return RawWritev(fd_, iov, count);
}

std::string BackendSocket::TransferError() const {
  if (tls_ != nullptr && !tls_->error().empty()) return absl::StrCat("TLS: ", tls_->error());
  return std::strerror(errno);
}

}  // namespace slotplane::dataplane
