#include "dataplane/session/client_registry.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"

namespace slotplane::dataplane {
namespace {

constexpr int64_t kCronIntervalMs = 1000;

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
  const int64_t now = worker_->loop().now_ms();
  for (auto& [ptr, client] : clients_) client->ReleaseIdleBuffers(now);
  CloseIdleClients();
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
