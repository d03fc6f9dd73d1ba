#include "controlplane/store/etcd_watcher.h"

#include "absl/time/clock.h"
#include "common/logging.h"

namespace slotplane::control {

void EtcdWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EtcdWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (stream_ != nullptr) stream_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EtcdWatcher::Run() {
  std::string last_error;
  while (true) {
    absl::Status ended = Follow();
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_) return;
    // Log when a failure starts or changes, not on every retry.
    if (std::string error(ended.message()); error != last_error) {
      SP_LOG(kWarning) << "watch on etcd key " << key_ << ": " << error << "; retrying";
      last_error = error;
    }
    wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; });
    if (stop_) return;
  }
}

absl::Status EtcdWatcher::Follow() {
  etcdserverpb::RangeRequest range;
  range.set_key(key_);
  absl::StatusOr<etcdserverpb::RangeResponse> read = client_->Range(range);
  if (!read.ok()) return read.status();
  on_change_(read->kvs().empty() ? std::nullopt : std::optional(read->kvs(0)));

  size_t index = 0;
  EtcdClient::Endpoint& endpoint = client_->Current(&index);
  grpc::ClientContext context;
  if (absl::Status s = client_->PrepareContext(&context); !s.ok()) return s;
  context.AddMetadata("hasleader", "true");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return absl::CancelledError("stopped");
    stream_ = &context;
  }
  auto stream = endpoint.watch->Watch(&context);
  etcdserverpb::WatchRequest request;
  request.mutable_create_request()->set_key(key_);
  request.mutable_create_request()->set_start_revision(read->header().revision() + 1);
  etcdserverpb::WatchResponse response;
  absl::Status ended = absl::UnavailableError("the watch stream ended");
  if (stream->Write(request)) {
    while (stream->Read(&response)) {
      if (response.canceled() || response.compact_revision() != 0) {
        ended = absl::AbortedError("the watch was cancelled: " + response.cancel_reason());
        break;
      }
      for (const mvccpb::Event& event : response.events()) {
        on_change_(event.type() == mvccpb::Event::DELETE ? std::nullopt
                                                         : std::optional(event.kv()));
      }
    }
  }
  context.TryCancel();
  grpc::Status status = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stream_ = nullptr;
  }
  if (!status.ok() && ended.code() == absl::StatusCode::kUnavailable) {
    ended = FromGrpc("watch", status);
    client_->Failed(index);
  }
  return ended;
}

}  // namespace slotplane::control
