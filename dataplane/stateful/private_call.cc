#include "dataplane/stateful/private_call.h"

#include <algorithm>

#include "dataplane/backend/private_pool.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/request_encoder.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";

}  // namespace

PrivateCall::PrivateCall(WorkerContext* worker, ClientSession* client, Owner* owner)
    : worker_(worker), client_(client), owner_(owner) {}

PrivateCall::~PrivateCall() { worker_->loop().Cancel(retry_timer_); }

void PrivateCall::Prepare(int slot) {
  conn_ = nullptr;
  slot_ = slot;
  asking_ = false;
  redirects_ = 0;
  tryagains_ = 0;
  frames_left_ = 0;
  frames_seen_ = 0;
}

void PrivateCall::UseConn(PrivateConn* conn, bool asking) {
  conn_ = conn;
  asking_ = asking;
}

void PrivateCall::ReplyError(ErrorKind kind, const std::string& error) {
  worker_->stats().CountError(kind);
  client_->Reply(error);
}

// --- running ---

void PrivateCall::Begin() {
  request_ = client_->NewRequest();
  client_->Hold();
  if (client_->IsHead(request_)) {
    Launch();
  } else {
    client_->NotifyWhenHead(request_);
  }
}

void PrivateCall::Send() {
  if (conn_ == nullptr) {
    BackendConn* owner = slot_ >= 0 ? worker_->router().ForSlot(static_cast<uint16_t>(slot_))
                                    : worker_->router().AnyMaster();
    if (owner == nullptr) {
      worker_->stats().CountError(ErrorKind::kClusterDown);
      Finish(worker_->router().view() == nullptr ? errors::NoTopology() : errors::SlotNotServed());
      return;
    }
    conn_ = worker_->private_pool().Acquire(owner->address(), owner_, client_->resp3());
  }
  out_.clear();
  size_t frames = 0;
  if (asking_) {
    out_.append(kAsking.data(), kAsking.size());
    ++frames;
  }
  frames += AppendRequest(&out_);
  frames_left_ = frames;
  frames_seen_ = 0;
  conn_->Write(out_);
  worker_->stats().commands_forwarded.Add();
}

size_t PrivateCall::AppendRequest(std::string* out) {
  out->append(command_.data(), command_.size());
  return 1;
}

void PrivateCall::OnFrame(std::string_view frame) {
  const size_t index = frames_seen_++;
  --frames_left_;
  if (asking_ && index == 0) return;  // ASKING's +OK
  if (frames_left_ > 0) {
    OnLeadingFrame(asking_ ? index - 1 : index, frame);
    return;
  }
  if (SendAgain(frame)) {
    Send();
    return;
  }
  Redirect redirect = RedirectOf(frame);
  if (redirect.kind != RedirectKind::kNone) {
    Retry(redirect, frame);
  } else {
    Finish(frame);
  }
}

Redirect PrivateCall::RedirectOf(std::string_view last) {
  return last[0] == '-' ? ParseRedirect(last) : Redirect();
}

// --- redirects ---

void PrivateCall::Retry(const Redirect& given, std::string_view reply) {
  Redirect redirect = given;
  if (redirect.address.host.empty()) redirect.address.host = conn_->address().host;
  if (pinned()) {
    if (redirect.kind == RedirectKind::kMoved) {
      worker_->router().OnMoved(redirect.slot, redirect.address);
      worker_->forwarder().RequestTopologyRefresh();
    }
    Finish(PinnedReply());
    return;
  }
  if (redirect.kind == RedirectKind::kTryAgain) {
    RetryLater(reply);
    return;
  }
  if (redirects_ >= worker_->policy().max_redirects) {
    worker_->stats().CountError(ErrorKind::kRedirectLimit);
    Finish(errors::TooManyRedirects(redirect.slot));
    return;
  }
  ++redirects_;
  Redirected(redirect);
}

void PrivateCall::RetryLater(std::string_view reply) {
  if (tryagains_ >= worker_->policy().tryagain_retries) {
    Finish(reply);  // for EXEC, the node's EXECABORT
    return;
  }
  worker_->stats().tryagain_retries.Add();
  int delay_ms = 10 << std::min<int>(tryagains_++, 5);
  worker_->private_pool().Release(conn_);
  conn_ = nullptr;
  retry_timer_ = worker_->loop().RunAfter(delay_ms, [this] {
    retry_timer_ = 0;
    Send();
  });
}

void PrivateCall::Redirected(const Redirect& redirect) {
  worker_->private_pool().Release(conn_);
  if (redirect.kind == RedirectKind::kMoved) {
    worker_->stats().moved_redirects.Add();
    worker_->router().OnMoved(redirect.slot, redirect.address);
    worker_->forwarder().RequestTopologyRefresh();
    asking_ = false;
  } else {
    worker_->stats().ask_redirects.Add();
    asking_ = true;
  }
  conn_ = worker_->private_pool().Acquire(redirect.address, owner_, client_->resp3());
  Send();
}

// --- ending ---

void PrivateCall::Finish(std::string_view reply) {
  Request* request = request_;
  Settle(reply);
  request_ = nullptr;
  conn_ = nullptr;
  frames_left_ = 0;
  client_->Complete(request, reply);
  owner_->OnCallDone();
  client_->Resume();
}

void PrivateCall::Settle(std::string_view /*reply*/) {
  if (conn_ != nullptr) worker_->private_pool().Release(conn_);
}

void PrivateCall::OnConnLost(const std::string& error) {
  conn_ = nullptr;
  worker_->stats().CountError(ErrorKind::kBackendUnavailable);
  Finish(error);
}

void PrivateCall::Abandon() {
  worker_->loop().Cancel(retry_timer_);
  retry_timer_ = 0;
  Leave();
  if (request_ != nullptr) worker_->pool().Release(request_);  // detached by Close
  request_ = nullptr;
  conn_ = nullptr;
  frames_left_ = 0;
}

void PrivateCall::Leave() {
  if (conn_ != nullptr) worker_->private_pool().Discard(conn_);
}

}  // namespace slotplane::dataplane
