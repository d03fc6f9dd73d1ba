#include "dataplane/worker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "dataplane/control/control_plane.h"
#include "dataplane/core/errors.h"
#include "dataplane/net/socket.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/redirect.h"
#include "dataplane/router/topology_refresher.h"
#include "dataplane/session/client_auth.h"
#include "dataplane/scatter/multi_request.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {
namespace {
constexpr int kMaxAcceptsPerEvent = 64;
constexpr int64_t kMinRefreshRequestGapMs = 100;
// MOVED reports to the control plane: at most one per worker per this gap.
constexpr int64_t kMinMovedReportGapMs = 100;
// Flushing can create more output (a resumed client dispatches buffered commands); the loop
// repeats until nothing is left, bounded so one pass cannot spin forever.
constexpr int kMaxFlushRounds = 8;

// Whether someone still waits for `request`'s reply: its client, or the command it is a part of.
bool Wanted(const Request* request) {
  return request->multi != nullptr ? request->multi->wanted() : request->client != nullptr;
}

}  // namespace

class Worker::Acceptor : public EventHandler {
 public:
  Acceptor(Worker* worker, int fd) : worker_(worker), fd_(fd) {}
  ~Acceptor() { close(fd_); }
  void OnEvents(uint32_t) override { worker_->Accept(fd_); }
  int fd() const { return fd_; }

 private:
  Worker* worker_;
  int fd_;
};

Worker::Worker(int index, ProxyContext* context)
    : index_(index),
      context_(context),
      policy_(context->initial_policy),
      router_(this, BackendOptions{policy_->backend_user, policy_->backend_password,
                                   context->options.backend_connect_timeout_ms}),
      private_pool_(&loop_, &stats_,
                    BackendOptions{policy_->backend_user, policy_->backend_password,
                                   context->options.backend_connect_timeout_ms},
                    context->options.connections_pool_size),
      dispatcher_(this) {
  request_limits_.max_bulk_len = policy_->proto_max_bulk_len;
  request_limits_.max_multibulk_len = policy_->max_multibulk_len;
  loop_.SetBeforeSleep([this] { BeforeSleep(); });
}

Worker::~Worker() {
  // Clients first: closing them detaches their requests, which the backend connections then
  // release to the pool when they are destroyed.
  std::vector<ClientSession*> open;
  for (auto& [ptr, client] : clients_) open.push_back(ptr);
  for (ClientSession* client : open) client->Close();
  closed_clients_.clear();
  for (Request* request : async_requests_) pool_.Release(request);
}

absl::Status Worker::Listen() {
  std::vector<std::string> hosts = options().bind;
  if (hosts.empty()) hosts.push_back("0.0.0.0");
  for (const std::string& host : hosts) {
    auto fd = dataplane::Listen(host, options().port, options().tcp_backlog);
    if (!fd.ok()) return fd.status();
    acceptors_.push_back(std::make_unique<Acceptor>(this, *fd));
    loop_.Add(*fd, EPOLLIN, acceptors_.back().get());
  }
  return absl::OkStatus();
}

void Worker::Start() {
  thread_ = std::thread([this] { loop_.Run(); });
}

void Worker::Stop() { loop_.Stop(); }

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::InstallView(ClusterViewPtr view) {
  loop_.Post([this, view = std::move(view)] { router_.SetView(view); });
}

void Worker::InstallPolicy(ProxyPolicyPtr policy, std::function<void()> applied) {
  loop_.Post([this, policy = std::move(policy), applied = std::move(applied)] {
    if (policy->backend_user != policy_->backend_user ||
        policy->backend_password != policy_->backend_password) {
      router_.set_backend_options(BackendOptions{policy->backend_user, policy->backend_password,
                                                 options().backend_connect_timeout_ms});
      private_pool_.set_options(BackendOptions{policy->backend_user, policy->backend_password,
                                               options().backend_connect_timeout_ms});
    }
    ProxyPolicyPtr before = std::move(policy_);
    policy_ = policy;
    CloseClientsOfRemovedUsers(this, *before, *policy_);
    // New clients parse with the new limits; connected ones keep theirs.
    request_limits_.max_bulk_len = policy_->proto_max_bulk_len;
    request_limits_.max_multibulk_len = policy_->max_multibulk_len;
    if (applied) applied();
  });
}

Request* Worker::BeginAsync(ClientSession* client) {
  Request* request = client->NewRequest();
  async_requests_.insert(request);
  return request;
}

void Worker::FinishAsync(Request* request, std::string reply) {
  loop_.Post([this, request, reply = std::move(reply)] {
    async_requests_.erase(request);
    Deliver(request, reply);
  });
}

void Worker::Accept(int listen_fd) {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        SP_LOG(kWarning) << "accept: " << std::strerror(errno);
      }
      return;
    }
    if (context_->clients.fetch_add(1) >= policy_->maxclients) {
      context_->clients.fetch_sub(1);
      stats_.connections_rejected.Add();
      std::string error = errors::MaxClients();
      ssize_t ignored = write(fd, error.data(), error.size());
      (void)ignored;
      close(fd);
      continue;
    }
    SetNoDelay(fd);
    SetKeepAlive(fd, options().tcpkeepalive);
    stats_.connections_received.Add();
    stats_.connected_clients.fetch_add(1, std::memory_order_relaxed);
    uint64_t id = context_->next_client_id.fetch_add(1);
    auto client = std::make_unique<ClientSession>(this, fd, id, PeerAddress(fd));
    ClientSession* raw = client.get();
    if (options().disable_multiplexing == "always") raw->EnsureState()->DisableMultiplexing();
    clients_.emplace(raw, std::move(client));
  }
}

void Worker::OnClientClosed(ClientSession* client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  closed_clients_.push_back(std::move(it->second));
  clients_.erase(it);
  context_->clients.fetch_sub(1);
  stats_.connected_clients.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::ScheduleFlush(BackendConn* conn) {
  conn->flush_scheduled = true;
  backends_to_flush_.push_back(conn);
}

void Worker::ScheduleFlush(ClientSession* client) {
  client->flush_scheduled = true;
  clients_to_flush_.push_back(client);
}

void Worker::BeforeSleep() {
  for (int round = 0; round < kMaxFlushRounds; ++round) {
    if (backends_to_flush_.empty() && clients_to_flush_.empty() && !private_pool_.flush_pending()) {
      break;
    }
    private_pool_.FlushScheduled();
    flushing_backends_.swap(backends_to_flush_);
    for (BackendConn* conn : flushing_backends_) {
      if (conn->flush_scheduled) conn->Flush();
    }
    flushing_backends_.clear();
    flushing_clients_.swap(clients_to_flush_);
    for (ClientSession* client : flushing_clients_) {
      if (client->flush_scheduled) client->Flush();
    }
    flushing_clients_.clear();
  }
  router_.CollectGarbage();
  closed_clients_.clear();
  private_pool_.CollectGarbage();
}

void Worker::Forward(Request* request, BackendConn* conn) {
  if (conn == nullptr) {
    stats_.CountError(ErrorKind::kClusterDown);
    Deliver(request, router_.view() == nullptr ? errors::NoTopology() : errors::SlotNotServed());
    return;
  }
  stats_.commands_forwarded.Add();
  conn->Send(request);
}

void Worker::OnBackendReply(BackendConn* conn, Request* request, std::string_view reply) {
  if (reply[0] == '-' && reply.size() > 4 &&
      (reply[1] == 'M' || reply[1] == 'A' || reply[1] == 'T')) {
    HandleRedirect(conn, request, reply);
    return;
  }
  Deliver(request, reply);
}

void Worker::Deliver(Request* request, std::string_view reply) {
  if (request->multi != nullptr) {
    MultiRequest::OnPartReply(request, reply);
    return;
  }
  if (request->client == nullptr) {
    pool_.Release(request);
    return;
  }
  request->client->Complete(request, reply);
}

void Worker::HandleRedirect(BackendConn* conn, Request* request, std::string_view reply) {
  Redirect redirect = ParseRedirect(reply);
  if (redirect.kind == RedirectKind::kNone) {
    Deliver(request, reply);
    return;
  }
  if (!Wanted(request) || (request->multi != nullptr && request->multi->pinned())) {
    Deliver(request, reply);  // nobody is waiting, or only this node may answer: don't chase it
    return;
  }
  if (redirect.kind == RedirectKind::kTryAgain) {
    if (request->tryagain_attempts >= policy_->tryagain_retries) {
      Deliver(request, reply);
      return;
    }
    stats_.tryagain_retries.Add();
    int delay_ms = 10 << std::min<int>(request->tryagain_attempts++, 5);
    loop_.RunAfter(delay_ms, [this, request] {
      if (!Wanted(request)) {
        Deliver(request, resp::kOk);  // dropped (a part only counts as answered)
      } else {
        Forward(request, router_.ForSlot(request->slot));
      }
    });
    return;
  }
  if (request->redirects >= policy_->max_redirects) {
    stats_.CountError(ErrorKind::kRedirectLimit);
    Deliver(request, errors::TooManyRedirects(redirect.slot));
    return;
  }
  ++request->redirects;
  if (redirect.address.host.empty()) redirect.address.host = conn->address().host;
  if (redirect.kind == RedirectKind::kMoved) {
    stats_.moved_redirects.Add();
    RequestTopologyRefresh();
    ReportMoved(redirect.slot, redirect.address);
    Forward(request, router_.OnMoved(redirect.slot, redirect.address));
  } else {
    stats_.ask_redirects.Add();
    stats_.commands_forwarded.Add();
    router_.ForAddress(redirect.address)->SendAsking(request);
  }
}

void Worker::FailRequest(Request* request, const std::string& error) {
  if (request->replica_read && Wanted(request)) {
    // A read-only command: safe to run again, on the master this time.
    request->replica_read = false;
    Forward(request, router_.ForSlot(request->slot));
    return;
  }
  stats_.CountError(ErrorKind::kBackendUnavailable);
  Deliver(request, error);
}

void Worker::OnBackendDown(BackendConn* conn) { RequestTopologyRefresh(); }

void Worker::ReportMoved(uint16_t slot, const NodeAddress& address) {
  if (context_->control == nullptr) return;
  int64_t now = loop_.now_ms();
  if (now - last_moved_report_ms_ < kMinMovedReportGapMs) return;
  last_moved_report_ms_ = now;
  context_->control->ReportMoved(slot, address);
}

void Worker::RequestTopologyRefresh() {
  if (context_->refresher == nullptr) return;
  int64_t now = loop_.now_ms();
  if (now - last_refresh_request_ms_ < kMinRefreshRequestGapMs) return;
  last_refresh_request_ms_ = now;
  stats_.topology_refresh_requests.Add();
  context_->refresher->RequestRefresh();
}

}  // namespace slotplane::dataplane
