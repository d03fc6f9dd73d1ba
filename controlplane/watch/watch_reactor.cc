#include "controlplane/watch/watch_reactor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_limits.h"
#include "common/logging.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/server_context.h"

namespace slotplane::control {
namespace {

// Bounds on what a proxy may make this process remember.
constexpr size_t kMaxFieldBytes = 256;
constexpr size_t kMaxErrorBytes = 1024;

std::string Bounded(const std::string& text, size_t max) {
  return text.size() <= max ? text : text.substr(0, max) + "...";
}

}  // namespace

WatchReactor::WatchReactor(grpc::CallbackServerContext* context, const WatchContext& deps)
    : deps_(deps),
      peer_(context->peer()),
      connected_since_unix_ms_(absl::ToUnixMillis(absl::Now())) {
  info_.set_connected_since_unix_ms(connected_since_unix_ms_);
  deps_.metrics->streams_opened.Increment();
  {
    std::lock_guard<std::mutex> lock(mu_);
    read_starting_ = true;
  }
  if (!deps_.hub->Add(this)) {
    std::lock_guard<std::mutex> lock(mu_);
    read_starting_ = false;
    finishing_ = true;
    finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane shutting down");
  } else {
    StartRead(&in_);
    std::lock_guard<std::mutex> lock(mu_);
    read_starting_ = false;
  }
  Pump();
}

void WatchReactor::OnReadDone(bool ok) {
  if (!ok) {
    // The proxy closed its side, or the stream broke.
    Close(grpc::Status::OK);
    return;
  }
  v1::ProxyMessage message;
  grpc::Status parsed = grpc::SerializationTraits<v1::ProxyMessage>::Deserialize(&in_, &message);
  if (!parsed.ok()) {
    SP_LOG(kWarning) << "watch stream from " << peer_ << ": malformed message, closing";
    Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "malformed ProxyMessage"));
    return;
  }
  Handle(message);
  bool read = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    read = !finishing_;
    read_starting_ = read;
  }
  if (!read) return;
  StartRead(&in_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    read_starting_ = false;
  }
  Pump();  // a Close that came meanwhile waited for the read to be issued
}

void WatchReactor::Handle(const v1::ProxyMessage& message) {
  switch (message.message_case()) {
    case v1::ProxyMessage::kHello:
      HandleHello(message.hello());
      break;
    case v1::ProxyMessage::kAck:
      HandleAck(message.ack());
      break;
    case v1::ProxyMessage::kNack:
      HandleNack(message.nack());
      break;
    case v1::ProxyMessage::kMoved:
      deps_.metrics->moved_reports.Increment();
      SP_LOG(kDebug) << "proxy at " << peer_ << " saw MOVED " << message.moved().slot() << " "
                     << Bounded(message.moved().address(), kMaxFieldBytes);
      if (deps_.refresh_topology) deps_.refresh_topology();
      break;
    case v1::ProxyMessage::kRefresh:
      deps_.metrics->refresh_requests.Increment();
      SP_LOG(kDebug) << "proxy at " << peer_ << " asked for a topology refresh";
      if (deps_.refresh_topology) deps_.refresh_topology();
      break;
    case v1::ProxyMessage::kStats: {
      std::lock_guard<std::mutex> lock(mu_);
      *info_.mutable_stats() = message.stats();
      break;
    }
    default:
      break;  // a message of a newer contract: ignore
  }
}

void WatchReactor::HandleHello(const v1::Hello& hello) {
  const std::string id =
      Bounded(hello.proxy_id().empty() ? peer_ : hello.proxy_id(), kMaxFieldBytes);
  // Only this stream's reader calls HandleHello, so the first Hello is claimed once.
  const bool first = !HelloReceived();
  if (first && !deps_.hub->ClaimProxyId(this, id)) {
    deps_.metrics->streams_refused.Increment();
    SP_LOG(kWarning) << "refused a watch stream from " << peer_ << ": proxy id " << id
                     << " is already connected";
    Close(grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                       absl::StrCat("proxy id '", id,
                                    "' is already connected on another stream (proxy ids must be "
                                    "unique; a reconnecting proxy is let in once its old stream "
                                    "ends)")));
    return;
  }
  SnapshotPtr current = deps_.hub->Current();  // before mu_: lock order is hub, then stream
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (first) info_.set_proxy_id(id);  // the identity is fixed by the first Hello
    info_.set_hostname(Bounded(hello.hostname(), kMaxFieldBytes));
    info_.set_listen_address(Bounded(hello.listen_address(), kMaxFieldBytes));
    info_.set_build_version(Bounded(hello.build_version(), kMaxFieldBytes));
    max_receive_bytes_ =
        hello.max_message_bytes() == 0 ? kDefaultGrpcReceiveBytes : hello.max_message_bytes();
    if (current != nullptr && (latest_ == nullptr || current->version > latest_->version)) {
      latest_ = current;
    }
  }
  if (first) {
    hello_.store(true, std::memory_order_release);
    SP_LOG(kInfo) << "proxy " << id << " connected from " << peer_ << " (listens on "
                  << Bounded(hello.listen_address(), kMaxFieldBytes) << ", build "
                  << Bounded(hello.build_version(), kMaxFieldBytes) << ", cached version "
                  << hello.cached_version() << ")";
  }
  Pump();
  deps_.hub->AckProgress();
}

void WatchReactor::HandleAck(const v1::Ack& ack) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Only versions this stream was sent, with this process's nonce, count.
    if (ack.version() == 0 || ack.version() > sent_version_ ||
        ack.nonce() != NonceFor(deps_.boot_id, ack.version())) {
      SP_LOG(kDebug) << "proxy " << info_.proxy_id() << ": ignoring ACK of version "
                     << ack.version() << " (not sent on this stream)";
      return;
    }
    if (ack.version() <= acked_.load(std::memory_order_relaxed)) return;
    info_.set_acked_version(ack.version());
    acked_.store(ack.version(), std::memory_order_release);
  }
  deps_.metrics->acks.Increment();
  deps_.hub->AckProgress();
}

void WatchReactor::HandleNack(const v1::Nack& nack) {
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (nack.version() == 0 || nack.version() > sent_version_ ||
        nack.nonce() != NonceFor(deps_.boot_id, nack.version())) {
      return;
    }
    info_.set_last_nack_version(nack.version());
    info_.set_last_nack_error(Bounded(nack.error(), kMaxErrorBytes));
    id = info_.proxy_id();
  }
  deps_.metrics->CountNack(ClassifyNack(nack.error()));
  SP_LOG(kWarning) << "proxy " << id << " rejected version " << nack.version() << ": "
                   << Bounded(nack.error(), kMaxErrorBytes);
}

void WatchReactor::Offer(const SnapshotPtr& snapshot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return;
    if (latest_ != nullptr && snapshot->version <= latest_->version) return;
    latest_ = snapshot;
  }
  Pump();
}

void WatchReactor::Close(const grpc::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finishing_) return;
    finishing_ = true;
    finish_status_ = status;
  }
  Pump();
}

void WatchReactor::Pump() {
  bool write = false;
  bool finish = false;
  grpc::Status status;
  std::string too_large;  // the log line when a snapshot was too large for this proxy
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (writing_ || read_starting_) return;  // OnWriteDone / the reader calls Pump again
    if (finishing_) {
      if (finish_started_) return;
      finish_started_ = finish = true;
      status = finish_status_;
    } else if (hello_.load(std::memory_order_relaxed) && latest_ != nullptr &&
               latest_->version > sent_version_) {
      sent_version_ = latest_->version;
      if (latest_->size_bytes > max_receive_bytes_) {
        too_large = RecordTooLargeLocked(*latest_);
      } else {
        out_ = latest_->message;  // shares the serialized slices
        writing_ = write = true;
      }
    }
  }
  if (!too_large.empty()) {
    deps_.metrics->snapshots_too_large.Increment();
    deps_.metrics->CountNack(NackReason::kTooLarge);
    SP_LOG(kWarning) << too_large;
  }
  if (write) {
    deps_.metrics->snapshots_sent.Increment();
    StartWrite(&out_);
  }
  if (finish) Finish(status);
}

std::string WatchReactor::RecordTooLargeLocked(const Snapshot& snapshot) {
  // The proxy would fail the stream on receipt ("Received message larger than max") without a
  // chance to NACK, reconnect and fail again: record the NACK here instead, where ListProxies,
  // `slotplanectl status` and WaitForVersion show it, and keep the stream.
  const std::string error = absl::StrCat("snapshot of ", snapshot.size_bytes,
                                         " bytes is larger than this proxy receives (",
                                         max_receive_bytes_, " bytes); upgrade the proxy");
  info_.set_last_nack_version(snapshot.version);
  info_.set_last_nack_error(error);
  return absl::StrCat("proxy ", info_.proxy_id(), " cannot take version ", snapshot.version, ": ",
                      error);
}

void WatchReactor::OnWriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok && !finishing_) {
      finishing_ = true;  // the stream is broken: it can only end
      finish_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
    }
  }
  Pump();
}

bool WatchReactor::Describe(v1::ProxyInfo* out) const {
  if (!HelloReceived()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  *out = info_;
  return true;
}

void WatchReactor::OnDone() {
  deps_.hub->Remove(this);
  if (HelloReceived()) {
    std::lock_guard<std::mutex> lock(mu_);
    SP_LOG(kInfo) << "proxy " << info_.proxy_id() << " disconnected (acked version "
                  << info_.acked_version() << ")";
  }
  Unref();
}

void WatchReactor::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

}  // namespace slotplane::control
