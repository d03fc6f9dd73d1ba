#include "dataplane/backend/backend_conn.h"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_stats.h"
#include "dataplane/net/socket.h"

namespace slotplane::dataplane {
namespace {

constexpr int kMaxIovecs = 128;
constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 2000;
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxReadsPerEvent = 16;
constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";
constexpr std::string_view kReadonly = "*1\r\n$8\r\nREADONLY\r\n";

std::string Bulk(std::string_view s) {
  return absl::StrCat("$", s.size(), "\r\n", AbslView(s), "\r\n");
}

std::string AuthCommand(const BackendOptions& o) {
  if (o.auth_user.empty()) return absl::StrCat("*2\r\n$4\r\nAUTH\r\n", Bulk(o.auth_password));
  return absl::StrCat("*3\r\n$4\r\nAUTH\r\n", Bulk(o.auth_user), Bulk(o.auth_password));
}

// The error text of a frame, without the leading '-' and trailing CRLF.
std::string_view ErrorText(std::string_view frame) {
  frame.remove_prefix(1);
  while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.remove_suffix(1);
  return frame;
}

}  // namespace

BackendConn::BackendConn(BackendOwner* owner, NodeAddress address, const BackendOptions& options)
    : owner_(owner),
      address_(std::move(address)),
      address_text_(address_.ToString()),
      options_(options) {}

BackendConn::~BackendConn() {
  owner_->loop().Cancel(connect_timer_);
  owner_->loop().Cancel(reconnect_timer_);
  CloseSocket();
  FailAll(errors::ConnectionLost(address_text_));
}

void BackendConn::Send(Request* request) {
  if (state_ == State::kBackoff) {
    owner_->FailRequest(request, errors::NodeUnreachable(address_text_, last_error_));
    return;
  }
  Enqueue(request);
  if (state_ == State::kIdle) {
    Connect();
  } else if (state_ == State::kConnected && !flush_scheduled) {
    owner_->ScheduleFlush(this);
  }
}

void BackendConn::SendAsking(Request* request) {
  if (state_ == State::kBackoff) {
    owner_->FailRequest(request, errors::NodeUnreachable(address_text_, last_error_));
    return;
  }
  Enqueue(NewInternal(kAsking));
  Send(request);
}

Request* BackendConn::NewInternal(std::string_view command) {
  Request* r = owner_->pool().Acquire();
  r->internal = true;
  r->command.assign(command.data(), command.size());
  return r;
}

void BackendConn::Enqueue(Request* request) {
  request->next_in_backend = nullptr;
  if (tail_ == nullptr) {
    head_ = tail_ = request;
  } else {
    tail_->next_in_backend = request;
    tail_ = request;
  }
  if (unsent_ == nullptr) {
    unsent_ = request;
    unsent_offset_ = 0;
  }
  ++in_flight_;
}

void BackendConn::PushFront(Request* request) {
  request->next_in_backend = head_;
  head_ = request;
  if (tail_ == nullptr) tail_ = request;
  ++in_flight_;
}

Request* BackendConn::PopFront() {
  Request* r = head_;
  head_ = r->next_in_backend;
  if (head_ == nullptr) tail_ = nullptr;
  if (unsent_ == r) {
    unsent_ = head_;
    unsent_offset_ = 0;
  }
  r->next_in_backend = nullptr;
  --in_flight_;
  return r;
}

void BackendConn::Connect() {
  auto fd = ConnectNonBlocking(address_.host, address_.port);
  if (!fd.ok()) {
    OnConnectFailed(std::string(fd.status().message()));
    return;
  }
  fd_ = *fd;
  state_ = State::kConnecting;
  owner_->stats().backend_connects.Add();
  // Everything queued is unsent on a fresh connection; AUTH, then READONLY, must precede it.
  if (options_.readonly) PushFront(NewInternal(kReadonly));
  if (!options_.auth_password.empty()) PushFront(NewInternal(AuthCommand(options_)));
  unsent_ = head_;
  unsent_offset_ = 0;
  registered_events_ = EPOLLOUT;
  owner_->loop().Add(fd_, registered_events_, this);
  connect_timer_ = owner_->loop().RunAfter(options_.connect_timeout_ms, [this] {
    connect_timer_ = 0;
    if (state_ == State::kConnecting) {
      OnConnectFailed(absl::StrCat("connect timed out after ", options_.connect_timeout_ms, " ms"));
    }
  });
}

void BackendConn::OnConnectDone() {
  int err = SocketError(fd_);
  if (err != 0) {
    OnConnectFailed(std::strerror(err));
    return;
  }
  owner_->loop().Cancel(connect_timer_);
  connect_timer_ = 0;
  state_ = State::kConnected;
  backoff_ms_ = 0;
  owner_->stats().backend_connections.fetch_add(1, std::memory_order_relaxed);
  SP_LOG(kDebug) << "connected to cluster node " << address_text_;
  Flush();
}

void BackendConn::OnConnectFailed(const std::string& reason) {
  SP_LOG(kWarning) << "cluster node " << address_text_ << " unreachable: " << reason;
  owner_->loop().Cancel(connect_timer_);
  connect_timer_ = 0;
  bool was_connected = state_ == State::kConnected;
  CloseSocket();
  if (was_connected) owner_->stats().backend_connections.fetch_sub(1, std::memory_order_relaxed);
  last_error_ = reason;
  owner_->stats().backend_failures.Add();
  state_ = State::kBackoff;
  FailAll(errors::NodeUnreachable(address_text_, reason));
  ScheduleReconnect();
  owner_->OnBackendDown(this);
}

void BackendConn::ScheduleReconnect() {
  backoff_ms_ = backoff_ms_ == 0 ? kFirstBackoffMs : std::min(backoff_ms_ * 2, kMaxBackoffMs);
  // After the backoff the connection goes idle; the next request reconnects. A node nobody
  // sends to is never retried in a loop.
  reconnect_timer_ = owner_->loop().RunAfter(backoff_ms_, [this] {
    reconnect_timer_ = 0;
    if (state_ == State::kBackoff) state_ = State::kIdle;
  });
}

void BackendConn::OnConnectionLost(const std::string& reason) {
  SP_LOG(kWarning) << "connection to cluster node " << address_text_ << " lost: " << reason;
  CloseSocket();
  owner_->stats().backend_connections.fetch_sub(1, std::memory_order_relaxed);
  owner_->stats().backend_failures.Add();
  last_error_ = reason;
  // Written requests may or may not have run: fail them. Unwritten ones are safe to resend.
  Request* first_unwritten = unsent_;
  if (first_unwritten != nullptr && unsent_offset_ > 0) first_unwritten = unsent_->next_in_backend;
  std::string error = errors::ConnectionLost(address_text_);
  while (head_ != nullptr && head_ != first_unwritten) {
    Request* r = PopFront();
    if (r->internal) {
      owner_->pool().Release(r);
    } else {
      owner_->FailRequest(r, error);
    }
  }
  state_ = State::kIdle;
  if (head_ != nullptr) {
    owner_->stats().backend_reconnects.Add();
    Connect();
  }
  owner_->OnBackendDown(this);
}

void BackendConn::Shutdown() {
  owner_->loop().Cancel(connect_timer_);
  owner_->loop().Cancel(reconnect_timer_);
  connect_timer_ = reconnect_timer_ = 0;
  if (state_ == State::kConnected) {
    owner_->stats().backend_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  CloseSocket();
  state_ = State::kIdle;
  FailAll(errors::ConnectionLost(address_text_));
}

void BackendConn::EnsureReadonly() {
  if (options_.readonly) return;
  options_.readonly = true;
  if (state_ == State::kConnecting || state_ == State::kConnected) {
    Enqueue(NewInternal(kReadonly));
    if (state_ == State::kConnected && !flush_scheduled) owner_->ScheduleFlush(this);
  }
}

void BackendConn::CloseSocket() {
  if (fd_ < 0) return;
  owner_->loop().Remove(fd_);
  close(fd_);
  fd_ = -1;
  registered_events_ = 0;
  input_.Clear();
  scanner_.Reset();
}

void BackendConn::FailAll(const std::string& error) {
  while (head_ != nullptr) {
    Request* r = PopFront();
    if (r->internal) {
      owner_->pool().Release(r);
    } else {
      owner_->FailRequest(r, error);
    }
  }
}

void BackendConn::OnEvents(uint32_t events) {
  if (state_ == State::kConnecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnConnectDone();
    return;
  }
  if (state_ != State::kConnected) return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ReadReplies();
  if (state_ == State::kConnected && (events & EPOLLOUT)) Flush();
}

void BackendConn::ReadReplies() {
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    char* space = input_.PrepareWrite(kReadChunk);
    size_t room = input_.writable();
    ssize_t n = read(fd_, space, room);
    if (n == 0) {
      OnConnectionLost("closed by the node");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      OnConnectionLost(std::strerror(errno));
      return;
    }
    input_.Commit(static_cast<size_t>(n));
    while (!input_.empty()) {
      ScanStatus status = scanner_.Scan(input_.data(), input_.size());
      if (status == ScanStatus::kNeedMore) break;
      if (status == ScanStatus::kError || head_ == nullptr) {
        OnConnectionLost(status == ScanStatus::kError
                             ? absl::StrCat("malformed reply: ", scanner_.error())
                             : "reply without a request");
        return;
      }
      size_t size = scanner_.frame_size();
      if (!HandleFrame(std::string_view(input_.data(), size))) return;
      input_.Consume(size);
    }
    if (static_cast<size_t>(n) < room) break;
  }
  input_.ShrinkIfIdle(1024 * 1024);
}

// Returns false when the connection was closed while handling the frame.
bool BackendConn::HandleFrame(std::string_view frame) {
  Request* r = PopFront();
  if (!r->internal) {
    owner_->OnBackendReply(this, r, frame);
    return true;
  }
  bool was_auth = r->command.compare(0, 12, "*2\r\n$4\r\nAUTH") == 0 ||
                  r->command.compare(0, 12, "*3\r\n$4\r\nAUTH") == 0;
  owner_->pool().Release(r);
  if (frame[0] == '-' && was_auth) {
    OnConnectFailed(absl::StrCat("AUTH rejected: ", AbslView(ErrorText(frame))));
    return false;
  }
  if (frame[0] == '-') {
    SP_LOG(kWarning) << "cluster node " << address_text_ << " answered " << ErrorText(frame)
                     << " to a command of the proxy's own (ASKING or READONLY)";
  }
  return true;
}

void BackendConn::Flush() {
  flush_scheduled = false;
  if (state_ != State::kConnected) return;
  while (unsent_ != nullptr) {
    iovec iov[kMaxIovecs];
    int count = 0;
    size_t total = 0;
    size_t offset = unsent_offset_;
    for (Request* r = unsent_; r != nullptr && count < kMaxIovecs; r = r->next_in_backend) {
      iov[count].iov_base = const_cast<char*>(r->command.data()) + offset;
      iov[count].iov_len = r->command.size() - offset;
      total += iov[count].iov_len;
      offset = 0;
      ++count;
    }
    ssize_t n = writev(fd_, iov, count);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      OnConnectionLost(std::strerror(errno));
      return;
    }
    size_t written = static_cast<size_t>(n);
    while (unsent_ != nullptr && written > 0) {
      size_t left = unsent_->command.size() - unsent_offset_;
      if (written < left) {
        unsent_offset_ += written;
        written = 0;
      } else {
        written -= left;
        unsent_ = unsent_->next_in_backend;
        unsent_offset_ = 0;
      }
    }
    if (static_cast<size_t>(n) < total) break;  // the socket buffer is full
  }
  UpdateInterest();
}

void BackendConn::UpdateInterest() {
  uint32_t wanted = EPOLLIN | (unsent_ != nullptr ? uint32_t{EPOLLOUT} : 0u);
  if (fd_ < 0 || wanted == registered_events_) return;
  registered_events_ = wanted;
  owner_->loop().Modify(fd_, wanted, this);
}

}  // namespace slotplane::dataplane
