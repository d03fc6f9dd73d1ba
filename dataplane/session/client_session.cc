#include "dataplane/session/client_session.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/net/raw_io.h"
#include "dataplane/request/request.h"
#include "dataplane/session/client_auth.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/command_sink.h"

namespace slotplane::dataplane {
namespace {

// A read gets whatever room the buffer has, at least this much: a drained buffer borrows a whole
// 16 KB pool block; one that holds the start of a command reads on behind it and grows (out of the
// pool) only when less than this is left, so a pipeline that straddles reads does not make every
// read move to a bigger allocation.
constexpr size_t kMinReadRoom = 4 * 1024;
constexpr int kMaxReadsPerEvent = 4;
// Backpressure: a client that pipelines faster than it reads its replies stops being read (TCP
// then slows it down) until its replies drain. kMaxInFlightRequests also bounds the work a
// client that never reads can put on the cluster nodes (each reply may be large) and so the
// delay of the other clients whose requests share those node connections: requests already
// forwarded are answered even after the client is closed. Pipelines deeper than it are served in
// steps of that size. The output limit itself is client-output-buffer-limit (CheckOutputLimits).
constexpr size_t kMaxInFlightRequests = 256;
constexpr size_t kMaxReplyBytes = 8 * 1024 * 1024;
// An in-order reply of at least this many bytes is written straight from the node's buffer (see
// WriteDirect). Smaller ones are copied and written once per loop pass with the replies around
// them: a write per reply would cost more than the copy.
constexpr size_t kDirectWriteMin = 64 * 1024;

}  // namespace

ClientSession::ClientSession(WorkerContext* worker, int fd, uint64_t id, std::string peer,
                             std::unique_ptr<TlsStream> tls)
    : worker_(worker),
      fd_(fd),
      tls_(std::move(tls)),
      id_(id),
      peer_(std::move(peer)),
      created_ms_(worker->loop().now_ms()),
      input_(&worker->buffers()),
      output_(&worker->buffers()),
      parser_(worker->request_limits()),
      last_interaction_ms_(created_ms_),
      authenticated_(!worker->policy().auth_required) {
  if (authenticated_) acl_ = UserAclOf(worker->policy(), "");  // the default user's
  registered_events_ = EPOLLIN;
  worker_->loop().Add(fd_, registered_events_, this);
  if (tls_ == nullptr) worker_->loop().ReceiveInRing(fd_);  // io_uring: multishot receive
}

ClientSession::~ClientSession() { Close(); }

void ClientSession::OnEvents(uint32_t events) {
  if (closed()) return;
  if (tls_ != nullptr && !tls_->established()) {
    ContinueHandshake();
    return;
  }
  // TLS may need the socket writable to go on reading.
  if (tls_ != nullptr && (events & EPOLLOUT) && tls_->wants_write()) events |= EPOLLIN;
  if (events & EPOLLIN) {
    ReadInput();
  } else if (events & (EPOLLERR | EPOLLHUP)) {
    Close();
    return;
  }
  if (!closed() && (events & EPOLLOUT)) {
    write_blocked_ = false;
    Flush();
  }
}

void ClientSession::ContinueHandshake() {
  switch (tls_->Handshake()) {
    case TlsStream::Step::kDone:
      UpdateInterest();
      ReadInput();  // the first command may have come with the handshake's last bytes
      return;
    case TlsStream::Step::kWantRead:
    case TlsStream::Step::kWantWrite: {
      const uint32_t wanted = tls_->wants_write() ? EPOLLOUT : EPOLLIN;
      if (wanted != registered_events_) {
        registered_events_ = wanted;
        worker_->loop().Modify(fd_, wanted, this);
      }
      return;
    }
    case TlsStream::Step::kFailed:
      SP_LOG(kDebug) << "TLS handshake with client " << peer_ << " failed: " << tls_->error();
      Close();
      return;
  }
}

ssize_t ClientSession::ReadSome(char* data, size_t size) {
  if (tls_ != nullptr) return tls_->Read(data, size);
  return worker_->loop().Read(fd_, data, size);  // io_uring: what the receive ring holds
}

ssize_t ClientSession::WriteSome(const char* data, size_t size) {
  if (tls_ == nullptr) return RawWrite(fd_, data, size);
  iovec iov{const_cast<char*>(data), size};
  return tls_->Write(&iov, 1);
}

void ClientSession::ReadInput() {
  // Bytes TLS decrypted already are read on: the socket will not signal them again.
  for (int i = 0; (i < kMaxReadsPerEvent || (tls_ != nullptr && tls_->pending())) && !closing_ &&
                  !paused_ && !closed();
       ++i) {
    char* space = input_.PrepareWrite(kMinReadRoom);
    size_t room = input_.writable();
    ssize_t n = ReadSome(space, room);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      Close();
      return;
    }
    if (n < 0) break;
    input_.Commit(static_cast<size_t>(n));
    last_interaction_ms_ = worker_->loop().now_ms();
    if (static_cast<int64_t>(input_.size()) > worker_->policy().client_query_buffer_limit) {
      // Redis's wording; the bytes themselves are not logged (they may hold a password).
      SP_LOG(kWarning) << "Closing client that reached max query buffer length: id=" << id_
                       << " addr=" << peer_ << " (" << input_.size()
                       << " bytes unparsed, client-query-buffer-limit "
                       << worker_->policy().client_query_buffer_limit << ")";
      worker_->stats().client_query_buffer_limit_disconnections.Add();
      worker_->stats().CountError(ErrorKind::kLimit);
      Close();
      return;
    }
    ProcessInput();
    if (static_cast<size_t>(n) < room && (tls_ == nullptr || !tls_->pending())) break;
  }
  // Every command parsed: the block goes back to the pool (a partial command keeps it). The
  // dispatcher is done with the bytes (see client_session.h).
  if (input_.empty()) input_.Release();
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
  return pending_ + static_cast<size_t>(in_flight_parts_) >= kMaxInFlightRequests ||
         reply_bytes() >= kMaxReplyBytes;
}

bool ClientSession::IdleLongerThan(int64_t timeout_ms, int64_t now_ms) const {
  if (pending_ > 0 || in_flight_parts_ > 0 || held_ || subscribed_) return false;
  return now_ms - last_interaction_ms_ > timeout_ms;
}

// Redis's checkClientOutputBufferLimits: the hard limit closes at once; the soft limit once the
// bytes stayed at or above it for more than its seconds (measured from the first check that
// found them there, reset by a check that finds them below). 0 disables a limit. Redis checks
// each reply as it is added; here a parked reply is checked as it arrives, and replies that go
// to the output buffer by the flush before the loop sleeps (once per pass, not per reply), so
// the client is closed in the same loop pass either way.
void ClientSession::CheckOutputLimits() {
  const ProxyPolicy& policy = worker_->policy();
  const size_t used = reply_bytes();
  // Every reply passes here: below the lowest limit with no soft period running, nothing to do.
  if (used < policy.output_check_bytes[subscribed_ ? 1 : 0] && soft_limit_since_ms_ < 0) return;
  if (close_asap_) return;
  const OutputBufferLimit& limit =
      subscribed_ ? policy.output_limits.pubsub : policy.output_limits.normal;
  const bool hard = limit.hard_bytes > 0 && used >= static_cast<size_t>(limit.hard_bytes);
  if (hard || SoftLimitExpired(limit, used)) CloseForOutputLimit(used);
}

bool ClientSession::SoftLimitExpired(const OutputBufferLimit& limit, size_t used) {
  if (limit.soft_bytes == 0 || used < static_cast<size_t>(limit.soft_bytes)) {
    soft_limit_since_ms_ = -1;
    return false;
  }
  const int64_t now = worker_->loop().now_ms();
  if (soft_limit_since_ms_ < 0) {
    soft_limit_since_ms_ = now;
    return false;
  }
  return now - soft_limit_since_ms_ > limit.soft_seconds * 1000;
}

void ClientSession::CloseForOutputLimit(size_t used) {
  SP_LOG(kWarning) << "Client id=" << id_ << " addr=" << peer_ << (subscribed_ ? " (pubsub)" : "")
                   << " scheduled to be closed ASAP for overcoming of output buffer limits ("
                   << used << " reply bytes held).";
  worker_->stats().client_output_buffer_limit_disconnections.Add();
  worker_->stats().CountError(ErrorKind::kLimit);
  close_asap_ = true;
  closing_ = true;
  output_.Clear();  // nothing more is written; Flush() closes the connection
  UpdateInterest();
}

Request* ClientSession::NewRequest() {
  Request* r = worker_->pool().Acquire();
  r->client = this;
  r->sink = this;
  r->stamp = stamp_;
  r->silent = replies_off_ || skip_current_;
  r->resp3 = resp3_;
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
    worker_->command_stats().Record(request->stamp, worker_->loop().now_ns(),
                                    !reply.empty() && reply[0] == '-');
    request->stamp.set = false;
  }
  if (close_asap_ || request->silent) reply = {};  // closing, or CLIENT REPLY OFF/SKIP: dropped
  if (request != head_) {
    request->reply.assign(reply.data(), reply.size());
    request->done = true;
    parked_bytes_ += reply.size();
    CheckOutputLimits();
    if (close_asap_) ScheduleFlush();  // closes it before the loop sleeps
    return;
  }
  if (reply.size() >= kDirectWriteMin) reply = WriteDirect(reply);
  output_.Append(reply);
  // Release the head and every parked reply behind it, in order.
  while (true) {
    Request* done = head_;
    head_ = done->next_in_client;
    if (head_ == nullptr) tail_ = nullptr;
    --pending_;
    worker_->pool().Release(done);
    if (head_ == nullptr || !head_->done) break;
    parked_bytes_ -= head_->reply.size();
    if (!close_asap_) output_.Append(head_->reply);
  }
  // The output limits are checked by the flush this schedules, once per loop pass.
  if (barrier_ != nullptr && head_ == barrier_ && !close_asap_) {
    barrier_ = nullptr;
    state_storage_->OnBarrier();
  }
  ScheduleFlush();
}

// A large reply with nothing ahead of it goes to the socket from the node's read buffer, which
// stays valid during the call: no copy, and no big output buffer allocated for it. Only on plain
// TCP with nothing queued or blocked (so the bytes cannot overtake others), and only what the
// socket takes at once. Returns what is left to append as usual; a write error shows again at
// the next flush, which closes the client.
std::string_view ClientSession::WriteDirect(std::string_view reply) {
  if (!output_.empty() || tls_ != nullptr || write_queued_ || write_blocked_ || closing_) {
    return reply;
  }
  const ssize_t n = RawWrite(fd_, reply.data(), reply.size());
  if (n <= 0) return reply;
  last_interaction_ms_ = worker_->loop().now_ms();
  worker_->stats().replies_written_direct.Add();
  return reply.substr(static_cast<size_t>(n));
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
  CheckOutputLimits();  // the replies this loop pass added
  if (close_asap_) {
    Close();
    return;
  }
  if (!BatchesWrites()) {
    if (!WriteOutput()) return;
  } else if (!output_.empty() && !write_blocked_) {
    if (!write_queued_) {
      write_queued_ = true;
      worker_->loop().QueueWrite(fd_, this);
    }
    return;  // OnWritten() goes on
  }
  AfterWrite();
}

bool ClientSession::WriteOutput() {
  while (!output_.empty()) {
    ssize_t n = WriteSome(output_.data(), output_.size());
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Close();
      return false;
    }
    output_.Consume(static_cast<size_t>(n));
    last_interaction_ms_ = worker_->loop().now_ms();
  }
  return true;
}

bool ClientSession::BatchesWrites() const {
  return tls_ == nullptr && worker_->loop().batches_writes();
}

int ClientSession::GatherWrite(iovec* iov, int max) {
  if (closed() || output_.empty() || max < 1) return 0;
  iov[0].iov_base = const_cast<char*>(output_.data());
  iov[0].iov_len = output_.size();
  return 1;
}

// Runs before the events of the pass. Writes that completed before it may have cleared the
// output (close_asap_) or appended to it; appends go at the back, so the front is what was sent.
void ClientSession::OnWritten(ssize_t result) {
  write_queued_ = false;
  if (closed()) return;
  if (close_asap_) {
    ScheduleFlush();  // closes it
    return;
  }
  if (result < 0) {
    if (result != -EAGAIN && result != -EINTR) {
      Close();
      return;
    }
    write_blocked_ = result == -EAGAIN;
    if (!write_blocked_) ScheduleFlush();
  } else {
    output_.Consume(std::min(static_cast<size_t>(result), output_.size()));
    if (result > 0) last_interaction_ms_ = worker_->loop().now_ms();
    if (!output_.empty()) write_blocked_ = true;  // short: the kernel's buffer is full
  }
  AfterWrite();
}

void ClientSession::AfterWrite() {
  if (output_.empty()) {
    output_.Release();  // everything written: back to the pool (a big buffer to the heap)
    if (closing_ && head_ == nullptr) {
      Close();
      return;
    }
  }
  if (state_ != nullptr) state_->OnClientFlushed();
  if (resume_input_ && !held_ && !paused_) {
    resume_input_ = false;
    ProcessInput();
    if (input_.empty()) input_.Release();
  }
  if (paused_ && !Overloaded()) {
    paused_ = false;
    ProcessInput();
    if (input_.empty()) input_.Release();
    if (!closed() && tls_ != nullptr && tls_->pending()) ReadInput();
    if (closed()) return;
  }
  UpdateInterest();
}

void ClientSession::UpdateInterest() {
  if (closed()) return;
  // Batched writes ask for EPOLLOUT only after a short write; the others whenever output waits.
  const bool wants_out = BatchesWrites() ? write_blocked_ : !output_.empty();
  uint32_t wanted =
      (closing_ || paused_ ? 0u : uint32_t{EPOLLIN}) | (wants_out ? uint32_t{EPOLLOUT} : 0u);
  if (tls_ != nullptr && tls_->wants_write()) wanted |= EPOLLOUT;
  if (wanted == registered_events_) return;
  registered_events_ = wanted;
  worker_->loop().Modify(fd_, wanted, this);
}

void ClientSession::Close() {
  if (fd_ < 0) return;
  worker_->loop().Remove(fd_);  // also drops a queued batched write
  write_queued_ = write_blocked_ = false;
  if (tls_ != nullptr) tls_->Shutdown();
  tls_.reset();
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
  parked_bytes_ = 0;
  barrier_ = nullptr;
  state_ = nullptr;
  if (state_storage_ != nullptr) state_storage_->OnClientClosed();
  worker_->clients().OnClosed(this);
}

}  // namespace slotplane::dataplane
