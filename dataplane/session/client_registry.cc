#include "dataplane/session/client_registry.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/buffer_pool.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"

namespace slotplane::dataplane {
namespace {

constexpr int64_t kCronIntervalMs = 1000;
// Worth a trim: this much heap came back since the last one (client buffers the pool did not
// keep, big buffers), or this many clients closed (~0.8 KB of heap each: the session, its
// parser's vectors, its table slot). Checked once a second, so while big values flow a worker
// trims at most once a second.
constexpr uint64_t kTrimAfterFreedBytes = 1024 * 1024;
constexpr int64_t kTrimAfterClosedClients = 512;
// The client table shrinks once it is this sparse (absl tables never shrink on erase).
constexpr size_t kMinTableCapacityToShrink = 1024;

}  // namespace

ClientRegistry::~ClientRegistry() {
  if (cron_fd_ >= 0) {
    worker_->loop().Remove(cron_fd_);
    close(cron_fd_);
  }
  // Closing detaches each client's requests; the backend connections release them to the pool
  // when they are destroyed.
  std::vector<ClientSession*> open;
  for (auto& [ptr, client] : clients_) open.push_back(ptr);
  for (ClientSession* client : open) client->Close();
  closed_.clear();
  for (Request* request : async_requests_) worker_->pool().Release(request);
}

ClientSession* ClientRegistry::Add(std::unique_ptr<ClientSession> client) {
  ClientSession* raw = client.get();
  clients_.emplace(raw, std::move(client));
  worker_->stats().connected_clients.fetch_add(1, std::memory_order_relaxed);
  if (!cron_started_) StartCron();
  return raw;
}

void ClientRegistry::StartCron() {
  cron_started_ = true;
  cron_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (cron_fd_ < 0) {
    SP_LOG(kError) << "timerfd_create: " << std::strerror(errno)
                   << "; idle clients are not timed out on this worker";
    return;
  }
  itimerspec every{};
  every.it_interval.tv_sec = every.it_value.tv_sec = kCronIntervalMs / 1000;
  timerfd_settime(cron_fd_, 0, &every, nullptr);
  worker_->loop().Add(cron_fd_, EPOLLIN, this);
}

void ClientRegistry::OnEvents(uint32_t) {
  uint64_t expirations;
  ssize_t ignored = read(cron_fd_, &expirations, sizeof(expirations));
  (void)ignored;
  CloseIdleClients();
  GiveBackMemoryAfterBurst();
}

// glibc keeps freed memory in its arenas: free chunks inside a heap are not returned to the
// system until malloc_trim walks them (free() only trims the top of the main heap, and worker
// threads allocate from their own arenas, whose pages free() returns only when a whole heap
// segment is free). Measured with 10,000 clients (docs/architecture.md, "Memory per client"):
// without it the RSS stays near its peak after the clients leave. It walks every arena under its
// lock, so it runs here, at most once a second and only after a burst, never per request.
void ClientRegistry::GiveBackMemoryAfterBurst() {
  const uint64_t freed = worker_->buffers().freed_bytes();
  if (freed - freed_at_last_trim_ < kTrimAfterFreedBytes &&
      closed_since_trim_ < kTrimAfterClosedClients) {
    return;
  }
  freed_at_last_trim_ = freed;
  closed_since_trim_ = 0;
  if (clients_.capacity() >= kMinTableCapacityToShrink && clients_.size() * 4 < clients_.capacity())
    clients_.rehash(0);
#if defined(__GLIBC__)
  malloc_trim(0);
  worker_->stats().heap_trims.Add();
#endif
}

void ClientRegistry::CloseIdleClients() {
  const int64_t timeout_s = worker_->policy().timeout;
  if (timeout_s <= 0) return;
  const int64_t now = worker_->loop().now_ms();
  std::vector<ClientSession*> idle;  // closing edits clients_: collect first
  for (auto& [ptr, client] : clients_) {
    if (!client->closed() && client->IdleLongerThan(timeout_s * 1000, now)) idle.push_back(ptr);
  }
  for (ClientSession* client : idle) {
    SP_LOG(kDebug) << "Closing idle client id=" << client->id() << " addr=" << client->peer()
                   << " (timeout " << timeout_s << " s)";
    worker_->stats().client_idle_disconnections.Add();
    client->Close();
  }
}

void ClientRegistry::OnClosed(ClientSession* client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  closed_.push_back(std::move(it->second));
  clients_.erase(it);
  ++closed_since_trim_;
  worker_->proxy().clients.fetch_sub(1);
  worker_->stats().connected_clients.fetch_sub(1, std::memory_order_relaxed);
}

void ClientRegistry::ScheduleFlush(ClientSession* client) { to_flush_.Schedule(client); }

bool ClientRegistry::FlushScheduled() { return to_flush_.FlushAll(); }

Request* ClientRegistry::BeginAsync(ClientSession* client) {
  Request* request = client->NewRequest();
  async_requests_.insert(request);
  return request;
}

void ClientRegistry::FinishAsync(Request* request, std::string reply) {
  worker_->loop().Post([this, request, reply = std::move(reply)] {
    async_requests_.erase(request);
    if (request->client != nullptr) {
      request->client->Complete(request, reply);
    } else {
      worker_->pool().Release(request);
    }
  });
}

}  // namespace slotplane::dataplane
