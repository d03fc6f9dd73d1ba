#include "dataplane/backend/private_conn.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/strings.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_stats.h"
#include "dataplane/net/socket.h"

namespace slotplane::dataplane {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxReadsPerEvent = 16;
constexpr size_t kKeepIdleBuffer = 256 * 1024;

void AppendBulk(std::string* out, std::string_view s) {
  absl::StrAppend(out, "$", s.size(), "\r\n", AbslView(s), "\r\n");
}

std::string AuthCommand(const BackendOptions& o) {
  std::string out = o.auth_user.empty() ? "*2\r\n$4\r\nAUTH\r\n" : "*3\r\n$4\r\nAUTH\r\n";
  if (!o.auth_user.empty()) AppendBulk(&out, o.auth_user);
  AppendBulk(&out, o.auth_password);
  return out;
}

}  // namespace

PrivateConn::PrivateConn(PrivatePool* pool, NodeAddress address, const BackendOptions& options)
    : pool_(pool),
      address_(std::move(address)),
      address_text_(address_.ToString()),
      options_(options) {}

PrivateConn::~PrivateConn() {
  pool_->loop().Cancel(timer_);
  CloseSocket();
}

bool PrivateConn::quiet() const {
  // The frame being delivered counts as read: a user may give the connection back from inside
  // OnPrivateFrame.
  return state_ != State::kDead && output_.empty() && input_.size() == handling_size_ &&
         frames_to_drain == 0 && !auth_pending_;
}

void PrivateConn::Connect() {
  auto fd = ConnectNonBlocking(address_.host, address_.port);
  if (!fd.ok()) {
    // Reported on the next pass so that the user never sees a failure inside its own call.
    state_ = State::kDead;
    std::string reason(fd.status().message());
    timer_ = pool_->loop().RunAfter(0, [this, reason] {
      timer_ = 0;
      Fail(reason, false);
    });
    return;
  }
  fd_ = *fd;
  pool_->stats().private_connects.Add();
  if (!options_.auth_password.empty()) {
    output_.Append(AuthCommand(options_));
    auth_pending_ = true;
  }
  registered_events_ = EPOLLOUT;
  pool_->loop().Add(fd_, registered_events_, this);
  timer_ = pool_->loop().RunAfter(options_.connect_timeout_ms, [this] {
    timer_ = 0;
    if (state_ == State::kConnecting) {
      Fail(absl::StrCat("connect timed out after ", options_.connect_timeout_ms, " ms"), false);
    }
  });
}

void PrivateConn::OnConnectDone() {
  int err = SocketError(fd_);
  if (err != 0) {
    Fail(std::strerror(err), false);
    return;
  }
  pool_->loop().Cancel(timer_);
  timer_ = 0;
  state_ = State::kConnected;
  Flush();
}

void PrivateConn::Fail(const std::string& reason, bool was_connected) {
  pool_->loop().Cancel(timer_);
  timer_ = 0;
  CloseSocket();
  state_ = State::kDead;
  pool_->stats().backend_failures.Add();
  if (user != nullptr) {
    SP_LOG(kWarning) << "private connection to cluster node " << address_text_ << " "
                     << (was_connected ? "lost: " : "failed: ") << reason;
    std::string error = was_connected ? errors::ConnectionLost(address_text_)
                                      : errors::NodeUnreachable(address_text_, reason);
    user->OnPrivateConnLost(this, error);
  } else {
    pool_->Discard(this);
  }
}

void PrivateConn::Write(std::string_view bytes) {
  if (state_ == State::kDead) return;  // the failure report is on its way to the user
  output_.Append(bytes);
  if (state_ == State::kConnected && !flush_scheduled) pool_->ScheduleFlush(this);
}

void PrivateConn::Flush() {
  flush_scheduled = false;
  if (state_ != State::kConnected) return;
  while (!output_.empty()) {
    ssize_t n = write(fd_, output_.data(), output_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Fail(std::strerror(errno), true);
      return;
    }
    output_.Consume(static_cast<size_t>(n));
  }
  if (output_.empty()) output_.ShrinkIfIdle(kKeepIdleBuffer);
  UpdateInterest();
}

void PrivateConn::OnEvents(uint32_t events) {
  if (state_ == State::kConnecting) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnConnectDone();
    return;
  }
  if (state_ != State::kConnected) return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ReadFrames();
  if (state_ == State::kConnected && !discarded && (events & EPOLLOUT)) Flush();
}

void PrivateConn::ReadFrames() {
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    char* space = input_.PrepareWrite(kReadChunk);
    size_t room = input_.writable();
    ssize_t n = read(fd_, space, room);
    if (n == 0) {
      Fail("closed by the node", true);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Fail(std::strerror(errno), true);
      return;
    }
    input_.Commit(static_cast<size_t>(n));
    while (!input_.empty()) {
      ScanStatus status = scanner_.Scan(input_.data(), input_.size());
      if (status == ScanStatus::kNeedMore) break;
      if (status == ScanStatus::kError) {
        Fail(absl::StrCat("malformed reply: ", scanner_.error()), true);
        return;
      }
      size_t size = scanner_.frame_size();
      handling_size_ = size;
      bool go_on = HandleFrame(std::string_view(input_.data(), size));
      handling_size_ = 0;
      if (state_ != State::kConnected || discarded) return;  // the buffer was cleared
      input_.Consume(size);
      if (!go_on) return;
    }
    if (static_cast<size_t>(n) < room) break;
  }
  if (input_.empty()) input_.ShrinkIfIdle(kKeepIdleBuffer);
}

bool PrivateConn::HandleFrame(std::string_view frame) {
  if (auth_pending_) {
    auth_pending_ = false;
    if (frame[0] == '-') {
      std::string_view text = frame.substr(1, frame.size() - 3);
      Fail(absl::StrCat("AUTH rejected: ", AbslView(text)), false);
      return false;
    }
    return true;
  }
  if (user != nullptr) {
    user->OnPrivateFrame(this, frame);
    return true;
  }
  if (frames_to_drain > 0) {
    if (--frames_to_drain == 0) pool_->Release(this);
    return true;
  }
  pool_->OnOrphanFrame(this);
  return false;
}

void PrivateConn::Close() {
  pool_->loop().Cancel(timer_);
  timer_ = 0;
  CloseSocket();
  state_ = State::kDead;
}

void PrivateConn::UpdateInterest() {
  if (fd_ < 0) return;
  uint32_t wanted = EPOLLIN | (output_.empty() ? 0 : EPOLLOUT);
  if (wanted == registered_events_) return;
  registered_events_ = wanted;
  pool_->loop().Modify(fd_, wanted, this);
}

void PrivateConn::CloseSocket() {
  if (fd_ < 0) return;
  pool_->loop().Remove(fd_);
  close(fd_);
  fd_ = -1;
  registered_events_ = 0;
  input_.Clear();
  output_.Clear();
  scanner_.Reset();
}

}  // namespace slotplane::dataplane
