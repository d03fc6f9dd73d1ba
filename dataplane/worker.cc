#include "dataplane/worker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "dataplane/core/errors.h"
#include "dataplane/dispatch/command_dispatch.h"
#include "dataplane/net/socket.h"
#include "dataplane/net/tls_stream.h"
#include "dataplane/session/client_auth.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/stateful/client_tracking.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {
namespace {

constexpr int kMaxAcceptsPerEvent = 64;
// Out of descriptors (EMFILE/ENFILE), a level-triggered listener with a pending connection would
// wake the loop again at once: the listeners pause this long instead.
constexpr int64_t kAcceptPauseMs = 100;
// While draining, how often a worker looks for clients it can close.
constexpr int64_t kDrainCheckMs = 20;
// At most one accept error line per worker per this interval; the rest are counted.
constexpr int64_t kAcceptLogIntervalMs = 1000;
// Flushing can create more output (a resumed client dispatches buffered commands); the loop
// repeats until nothing is left, bounded so one pass cannot spin forever.
constexpr int kMaxFlushRounds = 8;

BackendOptions BackendOptionsFor(const ProxyPolicy& policy, const ProxyOptions& options,
                                 SslContextPtr tls) {
  BackendOptions out;
  out.auth_user = policy.backend_user;
  out.auth_password = policy.backend_password;
  out.connect_timeout_ms = options.backend_connect_timeout_ms;
  out.tls = std::move(tls);
  return out;
}

}  // namespace

class Worker::Acceptor : public EventHandler {
 public:
  Acceptor(Worker* worker, int fd, ListenerKind kind) : worker_(worker), fd_(fd), kind_(kind) {}
  ~Acceptor() { Close(); }
  // An event of the loop's current batch may still name a closed acceptor: it is ignored, and
  // the object lives until the worker does.
  void OnEvents(uint32_t) override {
    if (fd_ >= 0) worker_->Accept(fd_, kind_);
  }
  int fd() const { return fd_; }
  // The unix socket is shared by every worker (watched with EPOLLEXCLUSIVE, which epoll cannot
  // modify): the Proxy closes it, and pausing removes and re-adds it instead of modifying it.
  bool shared() const { return kind_ == ListenerKind::kUnix; }
  uint32_t events() const { return shared() ? EPOLLIN | EPOLLEXCLUSIVE : EPOLLIN; }
  void Close() {
    if (fd_ >= 0 && !shared()) close(fd_);
    fd_ = -1;
  }

 private:
  Worker* worker_;
  int fd_;
  ListenerKind kind_;
};

Worker::Worker(int index, ProxyContext* proxy)
    : context_(index, proxy, proxy->initial_policy),
      loop_(proxy->io_engine, proxy->recv_ring),
      forwarder_(&context_),
      router_(&forwarder_, BackendOptionsFor(context_.policy(), proxy->options, proxy->tls_client)),
      private_pool_(&loop_, &stats_,
                    BackendOptionsFor(context_.policy(), proxy->options, proxy->tls_client),
                    context_.policy().connections_pool_size),
      tracking_(std::make_unique<ClientTracking>(&context_)),
      dispatcher_(std::make_unique<CommandDispatcher>(&context_)),
      clients_(std::make_unique<ClientRegistry>(&context_)),
      accept_log_(kAcceptLogIntervalMs),
      tls_server_(proxy->tls_server),
      tls_client_(proxy->tls_client) {
  context_.Bind(WorkerContext::Parts{&loop_, &pool_, &stats_, &router_, &forwarder_, &private_pool_,
                                     clients_.get(), dispatcher_.get(), tracking_.get(),
                                     &buffers_});
  loop_.SetBeforeSleep([this] { BeforeSleep(); });
}

Worker::~Worker() { clients_.reset(); }

absl::Status Worker::Listen() {
  const ProxyOptions& options = context_.options();
  std::vector<std::string> hosts = options.bind;
  if (hosts.empty()) hosts.push_back("0.0.0.0");
  for (const std::string& host : hosts) {
    if (options.PlainListener()) {
      if (absl::Status s = AddListener(host, options.port, false); !s.ok()) return s;
    }
    if (options.tls_port != 0) {
      if (absl::Status s = AddListener(host, options.tls_port, true); !s.ok()) return s;
    }
  }
  const int unix_fd = context_.proxy().unix_listener;
  if (unix_fd >= 0) AddAcceptor(unix_fd, ListenerKind::kUnix);
  return absl::OkStatus();
}

absl::Status Worker::AddListener(const std::string& host, uint16_t port, bool tls) {
  auto fd = dataplane::Listen(host, port, context_.options().tcp_backlog);
  if (!fd.ok()) return fd.status();
  AddAcceptor(*fd, tls ? ListenerKind::kTls : ListenerKind::kTcp);
  return absl::OkStatus();
}

void Worker::AddAcceptor(int fd, ListenerKind kind) {
  acceptors_.push_back(std::make_unique<Acceptor>(this, fd, kind));
  loop_.Add(fd, acceptors_.back()->events(), acceptors_.back().get());
}

void Worker::InstallTls(SslContextPtr server, SslContextPtr client) {
  loop_.Post([this, server = std::move(server), client = std::move(client)] {
    tls_server_ = server;
    tls_client_ = client;
    router_.set_backend_options(BackendOptionsFor(context_.policy(), context_.options(), client));
    private_pool_.set_options(BackendOptionsFor(context_.policy(), context_.options(), client));
  });
}

void Worker::Start() {
  thread_ = std::thread([this] { loop_.Run(); });
}

void Worker::Drain() {
  loop_.Post([this] {
    for (const auto& acceptor : acceptors_) {
      if (acceptor->fd() < 0) continue;
      loop_.Remove(acceptor->fd());
      acceptor->Close();  // new connections are refused from now on
    }
    CloseDrainedClients();
  });
}

void Worker::CloseDrainedClients() {
  std::vector<ClientSession*> done;  // closed after the walk: Close() edits the client map
  int remaining = 0;
  clients_->ForEach([&](ClientSession& client) {
    if (client.Drained()) {
      done.push_back(&client);
    } else {
      ++remaining;
    }
  });
  for (ClientSession* client : done) client->Close();
  if (remaining == 0) {
    drained_ = true;
    return;
  }
  loop_.RunAfter(kDrainCheckMs, [this] { CloseDrainedClients(); });
}

void Worker::Stop() { loop_.Stop(); }

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::InstallView(ClusterViewPtr view) {
  loop_.Post([this, view = std::move(view)] {
    router_.SetView(view);
    clients_->ForEach([](ClientSession& client) {
      if (ConnectionState* state = client.installed_state()) state->OnTopologyChanged();
    });
  });
}

void Worker::InstallPolicy(ProxyPolicyPtr policy, std::function<void()> applied) {
  loop_.Post([this, policy = std::move(policy), applied = std::move(applied)] {
    ApplyPolicy(policy);
    if (applied) applied();
  });
}

void Worker::ApplyPolicy(ProxyPolicyPtr policy) {
  const ProxyPolicy& before = context_.policy();
  if (policy->backend_user != before.backend_user ||
      policy->backend_password != before.backend_password) {
    router_.set_backend_options(BackendOptionsFor(*policy, context_.options(), tls_client_));
    private_pool_.set_options(BackendOptionsFor(*policy, context_.options(), tls_client_));
  }
  private_pool_.set_max_idle_per_node(policy->connections_pool_size);
  ProxyPolicyPtr previous = context_.policy_ptr();
  // New clients parse with the new limits; connected ones keep theirs.
  context_.SetPolicy(std::move(policy));
  CloseClientsOfRemovedUsers(&context_, *previous, context_.policy());
  RebindClientAcls(&context_);
}

void Worker::Accept(int listen_fd, ListenerKind kind) {
  const bool tls = kind == ListenerKind::kTls;
  ProxyContext& proxy = context_.proxy();
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EINTR || error == ECONNABORTED) return;
      LogAcceptError(error);
      if (error == EMFILE || error == ENFILE) PauseAccepting();
      return;
    }
    // Counted in here (the maxclients check), counted out by the registry when it closes.
    if (proxy.clients.fetch_add(1) >= context_.policy().maxclients) {
      proxy.clients.fetch_sub(1);
      stats_.connections_rejected.Add();
      // A TLS client could not read a plaintext error: it is only closed.
      if (!tls) {
        std::string error = errors::MaxClients();
        ssize_t ignored = write(fd, error.data(), error.size());
        (void)ignored;
      }
      close(fd);
      continue;
    }
    if (kind != ListenerKind::kUnix) {
      SetNoDelay(fd);
      SetKeepAlive(fd, context_.options().tcpkeepalive);
    }
    stats_.connections_received.Add();
    std::unique_ptr<TlsStream> stream;
    if (tls) {
      auto created = TlsStream::Create(tls_server_.get(), fd, TlsStream::Role::kServer);
      if (!created.ok()) {
        SP_LOG(kWarning) << "TLS client: " << created.status().message();
        proxy.clients.fetch_sub(1);
        close(fd);
        continue;
      }
      stream = *std::move(created);
    }
    uint64_t id = proxy.next_client_id.fetch_add(1);
    ClientSession* client = clients_->Add(
        std::make_unique<ClientSession>(&context_, fd, id, PeerAddress(fd), std::move(stream)));
    if (context_.options().disable_multiplexing == "always") {
      SessionState::Of(client, &context_)->DisableMultiplexing();
    }
  }
}

void Worker::LogAcceptError(int error) {
  uint64_t skipped = 0;
  if (!accept_log_.Allow(&skipped)) return;
  std::string line = absl::StrCat("accept: ", std::strerror(error));
  if (error == EMFILE || error == ENFILE) {
    absl::StrAppend(&line, " (new connections paused for ", kAcceptPauseMs, " ms)");
  }
  SP_LOG(kWarning) << line << SkippedSuffix(skipped);
}

void Worker::PauseAccepting() {
  if (accepting_paused_) return;
  accepting_paused_ = true;
  for (const auto& acceptor : acceptors_) {
    if (acceptor->fd() < 0) continue;
    if (acceptor->shared()) {
      loop_.Remove(acceptor->fd());
    } else {
      loop_.Modify(acceptor->fd(), 0, acceptor.get());
    }
  }
  loop_.RunAfter(kAcceptPauseMs, [this] {
    accepting_paused_ = false;
    for (const auto& acceptor : acceptors_) {
      if (acceptor->fd() < 0) continue;
      if (acceptor->shared()) {
        loop_.Add(acceptor->fd(), acceptor->events(), acceptor.get());
      } else {
        loop_.Modify(acceptor->fd(), EPOLLIN, acceptor.get());
      }
    }
  });
}

void Worker::BeforeSleep() {
  for (int round = 0; round < kMaxFlushRounds; ++round) {
    if (!forwarder_.flush_pending() && !clients_->flush_pending() &&
        !private_pool_.flush_pending()) {
      break;
    }
    private_pool_.FlushScheduled();
    forwarder_.FlushScheduled();
    clients_->FlushScheduled();
  }
  router_.CollectGarbage();
  clients_->CollectGarbage();
  private_pool_.CollectGarbage();
}

}  // namespace slotplane::dataplane
