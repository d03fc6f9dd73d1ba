#include "controlplane/watch/watch_hub.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace slotplane::control {

bool WatchHub::Add(WatchStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return false;
  streams_.insert(stream);
  UpdateGaugesLocked();
  return true;
}

void WatchHub::Remove(WatchStream* stream) {
  std::vector<DoneWaiter> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.erase(stream);
    if (auto it = proxy_id_of_.find(stream); it != proxy_id_of_.end()) {
      by_proxy_id_.erase(it->second);
      proxy_id_of_.erase(it);
    }
    if (auto it = acked_gauge_.find(stream); it != acked_gauge_.end()) {
      metrics_->RemoveProxy(it->second);
      acked_gauge_.erase(it);
    }
    UpdateGaugesLocked();
    done = TakeDoneWaitersLocked();  // the stream may have been the last laggard
  }
  RunDone(std::move(done));
}

bool WatchHub::ClaimProxyId(WatchStream* stream, const std::string& proxy_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (streams_.count(stream) == 0) return false;  // not registered (shutting down)
  auto [it, inserted] = by_proxy_id_.emplace(proxy_id, stream);
  if (!inserted) return it->second == stream;
  proxy_id_of_[stream] = proxy_id;
  prometheus::Gauge* gauge = metrics_->AddProxy(proxy_id);
  gauge->Set(static_cast<double>(stream->AckedVersion()));
  acked_gauge_[stream] = gauge;
  return true;
}

void WatchHub::Publish(SnapshotPtr snapshot) {
  std::vector<WatchStream*> streams;
  std::vector<DoneWaiter> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_ != nullptr && snapshot->version <= current_->version) return;
    current_ = snapshot;
    metrics_->versions_published.Increment();
    metrics_->version.Set(static_cast<double>(snapshot->version));
    metrics_->snapshot_bytes.Set(static_cast<double>(snapshot->size_bytes));
    int proxies = 0;
    for (WatchStream* stream : streams_) proxies += stream->HelloReceived() ? 1 : 0;
    convergence_.Published(snapshot->version, absl::Now(), proxies);
    streams = RefStreams();
    done = TakeDoneWaitersLocked();  // with no proxy connected, a waiter is done now
  }
  for (WatchStream* stream : streams) stream->Offer(snapshot);
  Release(streams);
  RunDone(std::move(done));
}

SnapshotPtr WatchHub::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::vector<v1::ProxyInfo> WatchHub::Proxies() const {
  std::vector<v1::ProxyInfo> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(streams_.size());
  for (WatchStream* stream : streams_) {
    v1::ProxyInfo info;
    if (stream->Describe(&info)) out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const v1::ProxyInfo& a, const v1::ProxyInfo& b) {
    return a.proxy_id() < b.proxy_id();
  });
  return out;
}

void WatchHub::AckProgress() {
  std::vector<DoneWaiter> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    UpdateGaugesLocked();
    if (waiters_.empty()) return;
    done = TakeDoneWaitersLocked();
  }
  RunDone(std::move(done));
}

WatchHub::WaiterId WatchHub::AddWaiter(uint64_t version, WaiterDone done_callback) {
  std::vector<DoneWaiter> done;
  WaiterId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_waiter_id_++;
    if (shutting_down_) {
      done.push_back({std::move(done_callback),
                      grpc::Status(grpc::StatusCode::UNAVAILABLE, "control plane shutting down"),
                      0});
    } else {
      waiters_.push_back({id, version, std::move(done_callback)});
      done = TakeDoneWaitersLocked();
    }
  }
  RunDone(std::move(done));
  return id;
}

bool WatchHub::CancelWaiter(WaiterId id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (it->id == id) {
      waiters_.erase(it);
      return true;
    }
  }
  return false;
}

std::string WatchHub::Laggards(uint64_t version) const {
  constexpr int kMaxListed = 10;
  std::string out;
  int count = 0;
  for (const v1::ProxyInfo& info : Proxies()) {
    if (info.acked_version() >= version) continue;
    if (++count > kMaxListed) continue;
    absl::StrAppend(&out, out.empty() ? "" : ", ", info.proxy_id(), " (acked ",
                    info.acked_version());
    if (info.last_nack_version() >= version) {
      absl::StrAppend(&out, ", NACKed ", info.last_nack_version(), ": ", info.last_nack_error());
    }
    absl::StrAppend(&out, ")");
  }
  if (count > kMaxListed) absl::StrAppend(&out, " and ", count - kMaxListed, " more");
  return out;
}

void WatchHub::Shutdown(const grpc::Status& status) {
  std::vector<WatchStream*> streams;
  std::vector<DoneWaiter> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    streams = RefStreams();
    for (Waiter& waiter : waiters_) done.push_back({std::move(waiter.done), status, 0});
    waiters_.clear();
  }
  for (WatchStream* stream : streams) stream->Close(status);
  Release(streams);
  RunDone(std::move(done));
}

std::vector<WatchStream*> WatchHub::RefStreams() const {
  std::vector<WatchStream*> streams(streams_.begin(), streams_.end());
  for (WatchStream* stream : streams) stream->Ref();
  return streams;
}

void WatchHub::Release(const std::vector<WatchStream*>& streams) {
  for (WatchStream* stream : streams) stream->Unref();
}

std::vector<WatchHub::DoneWaiter> WatchHub::TakeDoneWaitersLocked() {
  std::vector<DoneWaiter> done;
  if (waiters_.empty()) return done;
  const uint64_t current = current_ == nullptr ? 0 : current_->version;
  int proxies = 0;
  uint64_t min_acked = std::numeric_limits<uint64_t>::max();
  for (WatchStream* stream : streams_) {
    if (!stream->HelloReceived()) continue;
    ++proxies;
    min_acked = std::min(min_acked, stream->AckedVersion());
  }
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (it->version <= current && (proxies == 0 || min_acked >= it->version)) {
      done.push_back({std::move(it->done), grpc::Status::OK, proxies});
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  return done;
}

void WatchHub::RunDone(std::vector<DoneWaiter> done) {
  for (DoneWaiter& waiter : done) waiter.done(waiter.status, waiter.proxies);
}

void WatchHub::UpdateGaugesLocked() {
  int proxies = 0;
  uint64_t min_acked = std::numeric_limits<uint64_t>::max();
  for (WatchStream* stream : streams_) {
    if (!stream->HelloReceived()) continue;
    ++proxies;
    min_acked = std::min(min_acked, stream->AckedVersion());
  }
  metrics_->streams_connected.Set(static_cast<double>(streams_.size()));
  metrics_->proxies_connected.Set(proxies);
  for (const auto& [stream, gauge] : acked_gauge_) {
    gauge->Set(static_cast<double>(stream->AckedVersion()));
  }
  for (absl::Duration took : convergence_.Progress(proxies, min_acked, absl::Now())) {
    metrics_->ObserveConvergence(absl::ToDoubleSeconds(took));
  }
}

}  // namespace slotplane::control
