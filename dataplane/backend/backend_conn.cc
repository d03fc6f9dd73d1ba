#include "dataplane/backend/backend_conn.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "common/logging.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_stats.h"
#include "dataplane/net/socket.h"

namespace slotplane::dataplane {
namespace {

constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 2000;
constexpr size_t kKeepIdleBuffer = 1024 * 1024;
constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";
constexpr std::string_view kReadonly = "*1\r\n$8\r\nREADONLY\r\n";

}  // namespace

BackendConn::BackendConn(BackendOwner* owner, NodeAddress address, const BackendOptions& options)
    : owner_(owner),
      options_(options),
      socket_(&owner->loop(), std::move(address), this, this, kKeepIdleBuffer) {}

BackendConn::~BackendConn() {
  owner_->loop().Cancel(reconnect_timer_);
  socket_.Close();
  FailAll(errors::ConnectionLost(address_text()), FailKind::kMaybeRun);
}

void BackendConn::Send(Request* request) {
  if (state_ == State::kBackoff) {
    owner_->FailRequest(request, errors::NodeUnreachable(address_text(), last_error_),
                        FailKind::kNotSent);
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
    owner_->FailRequest(request, errors::NodeUnreachable(address_text(), last_error_),
                        FailKind::kNotSent);
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
  node_stats_.CountConnectAttempt();
  absl::Status status = socket_.Connect(options_);
  if (!status.ok()) {
    OnConnectFailed(std::string(status.message()));
    return;
  }
  state_ = State::kConnecting;
  owner_->stats().backend_connects.Add();
  // Everything queued is unsent on a fresh connection; the socket writes its handshake (AUTH,
  // then READONLY) ahead of it.
  unsent_ = head_;
  unsent_offset_ = 0;
}

void BackendConn::OnSocketConnected() {
  state_ = State::kConnected;
  backoff_ms_ = 0;
  owner_->stats().backend_connections.fetch_add(1, std::memory_order_relaxed);
  SP_LOG(kDebug) << "connected to cluster node " << address_text();
  // The socket writes the queue when this returns.
}

void BackendConn::OnConnectFailed(const std::string& reason) {
  SP_LOG(kWarning) << "cluster node " << address_text() << " unreachable: " << reason;
  const bool was_connected = state_ == State::kConnected;
  node_stats_.CountConnectionError();
  socket_.Close();
  if (was_connected) owner_->stats().backend_connections.fetch_sub(1, std::memory_order_relaxed);
  last_error_ = reason;
  owner_->stats().backend_failures.Add();
  state_ = State::kBackoff;
  // Nothing reached the node: a failed connect writes nothing, and requests written to an
  // earlier connection were failed when it was lost.
  FailAll(errors::NodeUnreachable(address_text(), reason), FailKind::kNotSent);
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
  SP_LOG(kWarning) << "connection to cluster node " << address_text() << " lost: " << reason;
  node_stats_.CountConnectionError();
  socket_.Close();
  owner_->stats().backend_connections.fetch_sub(1, std::memory_order_relaxed);
  owner_->stats().backend_failures.Add();
  last_error_ = reason;
  // Written requests may or may not have run: fail them. Unwritten ones are safe to resend.
  Request* first_unwritten = unsent_;
  if (first_unwritten != nullptr && unsent_offset_ > 0) first_unwritten = unsent_->next_in_backend;
  const std::string error = errors::ConnectionLost(address_text());
  while (head_ != nullptr && head_ != first_unwritten) {
    Drop(PopFront(), error, FailKind::kMaybeRun);
  }
  state_ = State::kIdle;
  if (head_ != nullptr) {
    owner_->stats().backend_reconnects.Add();
    Connect();
  }
  owner_->OnBackendDown(this);
}

BackendConn* BackendConn::Resp3() {
  if (options_.resp3) return this;
  if (resp3_ == nullptr) {
    BackendOptions options = options_;
    options.resp3 = true;
    resp3_ = std::make_unique<BackendConn>(owner_, socket_.address(), options);
    resp3_->referenced_ = referenced_;
  }
  return resp3_.get();
}

void BackendConn::Shutdown() {
  if (resp3_ != nullptr) resp3_->Shutdown();
  owner_->loop().Cancel(reconnect_timer_);
  reconnect_timer_ = 0;
  if (state_ == State::kConnected) {
    owner_->stats().backend_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  socket_.Close();
  state_ = State::kIdle;
  FailAll(errors::ConnectionLost(address_text()), FailKind::kMaybeRun);
}

void BackendConn::TimeOut(int timeout_ms) {
  SP_LOG(kWarning) << "cluster node " << address_text() << " did not answer within " << timeout_ms
                   << " ms; closing the connection";
  if (state_ == State::kConnected) {
    owner_->stats().backend_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  socket_.Close();
  state_ = State::kIdle;
  last_error_ = "no answer within backend-timeout";
  owner_->stats().backend_failures.Add();
  owner_->stats().backend_timeouts.Add();
  FailAll(errors::BackendTimeout(address_text(), timeout_ms), FailKind::kTimedOut);
  owner_->OnBackendDown(this);
}

void BackendConn::EnsureReadonly() {
  if (resp3_ != nullptr) resp3_->EnsureReadonly();
  if (options_.readonly) return;
  options_.readonly = true;
  if (state_ == State::kConnecting || state_ == State::kConnected) {
    Enqueue(NewInternal(kReadonly));
    if (state_ == State::kConnected && !flush_scheduled) owner_->ScheduleFlush(this);
  }
}

void BackendConn::FailAll(const std::string& error, FailKind kind) {
  while (head_ != nullptr) Drop(PopFront(), error, kind);
}

void BackendConn::Drop(Request* request, const std::string& error, FailKind kind) {
  if (request->internal) {
    owner_->pool().Release(request);
  } else {
    owner_->FailRequest(request, error, kind);
  }
}

void BackendConn::OnEvents(uint32_t events) { socket_.OnEvents(events); }

void BackendConn::OnSocketFrame(std::string_view frame) {
  if (head_ == nullptr) {
    OnConnectionLost("reply without a request");
    return;
  }
  waiting_since_ms_ = owner_->loop().now_ms();  // the node made progress
  Request* r = PopFront();
  node_stats_.CountReply(frame);
  if (!r->internal) {
    owner_->OnBackendReply(this, r, frame);
    return;
  }
  owner_->pool().Release(r);  // ASKING or READONLY
  if (frame[0] == '-') LogOwnCommandError(address_text(), frame);
}

void BackendConn::Flush() {
  flush_scheduled = false;
  if (state_ == State::kConnected) socket_.Flush();
}

int BackendConn::GatherUnsent(iovec* iov, int max) {
  int count = 0;
  size_t offset = unsent_offset_;
  for (Request* r = unsent_; r != nullptr && count < max; r = r->next_in_backend) {
    iov[count].iov_base = const_cast<char*>(r->command.data()) + offset;
    iov[count].iov_len = r->command.size() - offset;
    offset = 0;
    ++count;
  }
  return count;
}

void BackendConn::ConsumeUnsent(size_t written) {
  // The first bytes written while nothing is outstanding start the wait for a reply.
  if (written > 0 && !written_outstanding()) waiting_since_ms_ = owner_->loop().now_ms();
  while (unsent_ != nullptr && written > 0) {
    const size_t left = unsent_->command.size() - unsent_offset_;
    if (written < left) {
      unsent_offset_ += written;
      return;
    }
    written -= left;
    unsent_ = unsent_->next_in_backend;
    unsent_offset_ = 0;
  }
}

}  // namespace slotplane::dataplane
