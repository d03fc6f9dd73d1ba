#include "dataplane/stateful/private_link.h"

#include <algorithm>

#include "dataplane/backend/private_pool.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/router/redirect.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {
constexpr std::string_view kAsking = "*1\r\n$6\r\nASKING\r\n";
}  // namespace

PrivateLink::~PrivateLink() { OnClientClosed(); }

PrivateLink::Node* PrivateLink::NodeAt(const NodeAddress& address) {
  std::string key = address.ToString();
  if (client_->resp3()) key += "#3";  // one connection per node per protocol
  auto it = by_address_.find(key);
  if (it != by_address_.end()) return it->second;
  auto node = std::make_unique<Node>();
  node->conn = worker_->private_pool().Acquire(address, this, client_->resp3());
  Node* raw = node.get();
  nodes_.emplace(raw->conn, std::move(node));
  by_address_.emplace(std::move(key), raw);
  return raw;
}

void PrivateLink::Enqueue(Node* node, Request* request) {
  request->next_in_backend = nullptr;
  if (node->tail == nullptr) {
    node->head = node->tail = request;
  } else {
    node->tail->next_in_backend = request;
    node->tail = request;
  }
  ++node->in_flight;
  node->conn->Write(request->command);
}

Request* PrivateLink::PopFront(Node* node) {
  Request* r = node->head;
  node->head = r->next_in_backend;
  if (node->head == nullptr) node->tail = nullptr;
  r->next_in_backend = nullptr;
  --node->in_flight;
  return r;
}

void PrivateLink::Send(Request* request, const NodeAddress& address) {
  worker_->stats().commands_forwarded.Add();
  Enqueue(NodeAt(address), request);
}

void PrivateLink::OnPrivateFrame(PrivateConn* conn, std::string_view frame) {
  auto it = nodes_.find(conn);
  if (it == nodes_.end() || it->second->head == nullptr) {
    // A frame nobody asked for: the connection's state is unknown now.
    OnPrivateConnLost(conn, errors::ConnectionLost(conn->address_text()));
    return;
  }
  Request* request = PopFront(it->second.get());
  if (request->internal) {  // the ASKING before a redirected command
    worker_->pool().Release(request);
    return;
  }
  HandleReply(conn, request, frame);
}

void PrivateLink::HandleReply(PrivateConn* conn, Request* request, std::string_view reply) {
  Redirect redirect = reply[0] == '-' ? ParseRedirect(reply) : Redirect();
  if (redirect.kind == RedirectKind::kNone) {
    Deliver(request, reply);
    return;
  }
  const ProxyPolicy& policy = worker_->policy();
  if (redirect.kind == RedirectKind::kTryAgain) {
    if (request->tryagain_attempts >= policy.tryagain_retries) {
      Deliver(request, reply);
      return;
    }
    worker_->stats().tryagain_retries.Add();
    int delay_ms = 10 << std::min<int>(request->tryagain_attempts++, 5);
    EventLoop::TimerId id = worker_->loop().RunAfter(delay_ms, [this, request] {
      retries_.erase(std::remove_if(retries_.begin(), retries_.end(),
                                    [request](const auto& r) { return r.second == request; }),
                     retries_.end());
      BackendConn* owner = worker_->router().ForSlot(request->slot);
      if (owner == nullptr) {
        Deliver(request, errors::SlotNotServed());
      } else {
        Send(request, owner->address());
      }
    });
    retries_.emplace_back(id, request);
    return;
  }
  if (request->redirects >= policy.max_redirects) {
    worker_->stats().CountError(ErrorKind::kRedirectLimit);
    Deliver(request, errors::TooManyRedirects(redirect.slot));
    return;
  }
  ++request->redirects;
  if (redirect.address.host.empty()) redirect.address.host = conn->address().host;
  if (redirect.kind == RedirectKind::kMoved) {
    worker_->stats().moved_redirects.Add();
    worker_->forwarder().RequestTopologyRefresh();
    worker_->router().OnMoved(redirect.slot, redirect.address);
    Send(request, redirect.address);
  } else {
    worker_->stats().ask_redirects.Add();
    Node* node = NodeAt(redirect.address);
    Request* asking = worker_->pool().Acquire();
    asking->internal = true;
    asking->command.assign(kAsking.data(), kAsking.size());
    Enqueue(node, asking);
    Send(request, redirect.address);
  }
}

void PrivateLink::Deliver(Request* request, std::string_view reply) {
  if (request->client == nullptr) {
    worker_->pool().Release(request);
    return;
  }
  request->client->Complete(request, reply);
}

void PrivateLink::OnPrivateConnLost(PrivateConn* conn, const std::string& error) {
  auto it = nodes_.find(conn);
  worker_->private_pool().Discard(conn);
  if (it == nodes_.end()) return;
  std::unique_ptr<Node> node = std::move(it->second);
  nodes_.erase(it);
  by_address_.erase(conn->resp3() ? conn->address_text() + "#3" : conn->address_text());
  // Commands written on it may or may not have run: they fail, as on a shared connection.
  while (node->head != nullptr) {
    Request* request = PopFront(node.get());
    if (request->internal) {
      worker_->pool().Release(request);
    } else {
      worker_->stats().CountError(ErrorKind::kBackendUnavailable);
      Deliver(request, error);
    }
  }
}

void PrivateLink::OnClientClosed() {
  for (auto& [id, request] : retries_) {
    worker_->loop().Cancel(id);
    worker_->pool().Release(request);
  }
  retries_.clear();
  for (auto& [conn, node] : nodes_) {
    size_t frames = node->in_flight;
    while (node->head != nullptr) worker_->pool().Release(PopFront(node.get()));
    worker_->private_pool().ReleaseAfter(conn, frames);
  }
  nodes_.clear();
  by_address_.clear();
}

}  // namespace slotplane::dataplane
