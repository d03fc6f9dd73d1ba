#include "dataplane/session/client_session.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/command_sink.h"

namespace slotplane::dataplane {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr int kMaxReadsPerEvent = 4;
// Backpressure: a client that pipelines faster than it reads its replies stops being read (TCP
// then slows it down) until its replies drain. Keeps memory bounded per client.
constexpr size_t kMaxPendingRequests = 100000;
constexpr size_t kMaxBufferedOutput = 64 * 1024 * 1024;
constexpr size_t kKeepIdleBuffer = 1024 * 1024;

}  // namespace

ClientSession::ClientSession(WorkerContext* worker, int fd, uint64_t id, std::string peer)
    : worker_(worker),
      fd_(fd),
      id_(id),
      peer_(std::move(peer)),
      created_ms_(worker->loop().now_ms()),
      parser_(worker->request_limits()),
      authenticated_(!worker->policy().auth_required) {
  registered_events_ = EPOLLIN;
  worker_->loop().Add(fd_, registered_events_, this);
}

ClientSession::~ClientSession() { Close(); }

void ClientSession::OnEvents(uint32_t events) {
  if (closed()) return;
  if (events & EPOLLIN) {
    ReadInput();
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    Close();
    return;
  }
  if (!closed() && (events & EPOLLOUT)) Flush();
}

void ClientSession::ReadInput() {
  for (int i = 0; i < kMaxReadsPerEvent && !closing_ && !paused_; ++i) {
    char* space = input_.PrepareWrite(kReadChunk);
    size_t room = input_.writable();
    ssize_t n = read(fd_, space, room);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      Close();
      return;
    }
    if (n < 0) break;
    input_.Commit(static_cast<size_t>(n));
    if (static_cast<int64_t>(input_.size()) > worker_->policy().client_query_buffer_limit) {
      SP_LOG(kWarning) << "closing client " << peer_
                       << " that reached the max query buffer length ("
                       << worker_->policy().client_query_buffer_limit << " bytes)";
      worker_->stats().CountError(ErrorKind::kLimit);
      Close();
      return;
    }
    ProcessInput();
    if (static_cast<size_t>(n) < room) break;
  }
}

void ClientSession::ProcessInput() {
  while (!input_.empty() && !closing_ && !closed() && !held_) {
    if (Overloaded()) {
      paused_ = true;
      UpdateInterest();
      return;
    }
    ParseStatus status = parser_.Parse(input_.data(), input_.size());
    size_t skipped = parser_.skipped_bytes();
    if (status == ParseStatus::kNeedMore) {
      input_.Consume(skipped);
      return;
    }
    if (status == ParseStatus::kError) {
      SP_LOG(kDebug) << "protocol error from client " << peer_ << ": " << parser_.error();
      worker_->stats().CountError(ErrorKind::kProtocol);
      Reply(errors::Protocol(parser_.error()));
      input_.Clear();
      parser_.Reset();
      CloseAfterReplies();
      return;
    }
    std::string_view raw;
    if (!parser_.is_inline())
      raw = std::string_view(input_.data() + skipped, parser_.command_size());
    worker_->commands().Dispatch(this, parser_.args(), raw);
    input_.Consume(skipped + parser_.command_size());
  }
}

bool ClientSession::Overloaded() const {
  return pending_ + static_cast<size_t>(in_flight_parts_) >= kMaxPendingRequests ||
         output_.size() >= kMaxBufferedOutput;
}

Request* ClientSession::NewRequest() {
  Request* r = worker_->pool().Acquire();
  r->client = this;
  r->sink = this;
  r->stamp = stamp_;
  stamp_.set = false;
  if (tail_ == nullptr) {
    head_ = tail_ = r;
  } else {
    tail_->next_in_client = r;
    tail_ = r;
  }
  ++pending_;
  return r;
}

void ClientSession::Complete(Request* request, std::string_view reply) {
  if (request->stamp.set) {
    worker_->command_stats().Record(request->stamp, MonotonicNanos(),
                                    !reply.empty() && reply[0] == '-');
    request->stamp.set = false;
  }
  if (request != head_) {
    request->reply.assign(reply.data(), reply.size());
    request->done = true;
    return;
  }
  output_.Append(reply);
  // Release the head and every parked reply behind it, in order.
  while (true) {
    Request* done = head_;
    head_ = done->next_in_client;
    if (head_ == nullptr) tail_ = nullptr;
    --pending_;
    worker_->pool().Release(done);
    if (head_ == nullptr || !head_->done) break;
    output_.Append(head_->reply);
  }
  if (barrier_ != nullptr && head_ == barrier_) {
    barrier_ = nullptr;
    state_storage_->OnBarrier();
  }
  ScheduleFlush();
}

void ClientSession::SetStateActive(bool active) {
  state_ = active && !closed() ? state_storage_.get() : nullptr;
}

void ClientSession::Resume() {
  held_ = false;
  // Never parse from inside the call that resumes (it may run inside a dispatch): the flush
  // before the loop sleeps picks the input up.
  if (!input_.empty()) {
    resume_input_ = true;
    ScheduleFlush();
  }
}

void ClientSession::ScheduleFlush() {
  if (!flush_scheduled) worker_->clients().ScheduleFlush(this);
}

void ClientSession::CloseAfterReplies() {
  closing_ = true;
  UpdateInterest();
  ScheduleFlush();
}

void ClientSession::Flush() {
  flush_scheduled = false;
  if (closed()) return;
  while (!output_.empty()) {
    ssize_t n = write(fd_, output_.data(), output_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Close();
      return;
    }
    output_.Consume(static_cast<size_t>(n));
  }
  if (output_.empty()) {
    output_.ShrinkIfIdle(kKeepIdleBuffer);
    if (closing_ && head_ == nullptr) {
      Close();
      return;
    }
  }
  if (state_ != nullptr) state_->OnClientFlushed();
  if (resume_input_ && !held_ && !paused_) {
    resume_input_ = false;
    ProcessInput();
  }
  if (paused_ && !Overloaded()) {
    paused_ = false;
    ProcessInput();
  }
  UpdateInterest();
}

void ClientSession::UpdateInterest() {
  if (closed()) return;
  uint32_t wanted =
      (closing_ || paused_ ? 0u : uint32_t{EPOLLIN}) | (output_.empty() ? 0u : uint32_t{EPOLLOUT});
  if (wanted == registered_events_) return;
  registered_events_ = wanted;
  worker_->loop().Modify(fd_, wanted, this);
}

void ClientSession::Close() {
  if (fd_ < 0) return;
  worker_->loop().Remove(fd_);
  close(fd_);
  fd_ = -1;
  // Requests still waiting for a backend stay in that backend's queue; detached, their replies
  // are dropped when they arrive.
  for (Request* r = head_; r != nullptr;) {
    Request* next = r->next_in_client;
    r->next_in_client = nullptr;
    if (r->done) {
      worker_->pool().Release(r);
    } else {
      r->client = nullptr;
      r->sink = nullptr;
    }
    r = next;
  }
  head_ = tail_ = nullptr;
  pending_ = 0;
  barrier_ = nullptr;
  state_ = nullptr;
  if (state_storage_ != nullptr) state_storage_->OnClientClosed();
  worker_->clients().OnClosed(this);
}

}  // namespace slotplane::dataplane
