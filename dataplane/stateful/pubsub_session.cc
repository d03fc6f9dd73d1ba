#include "dataplane/stateful/pubsub_session.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "common/logging.h"
#include "common/slot.h"
#include "common/strings.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/redirect.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/pubsub_placement.h"

namespace slotplane::dataplane {
namespace {

template <typename List, typename T>
bool Has(const List& list, T* item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

template <typename Node>
void AddTo(std::vector<std::pair<Node*, std::vector<std::string>>>* to_send, Node* node,
           std::string_view name) {
  auto it = std::find_if(to_send->begin(), to_send->end(),
                         [node](const auto& entry) { return entry.first == node; });
  if (it == to_send->end()) it = to_send->insert(to_send->end(), {node, {}});
  it->second.emplace_back(name);
}

std::string_view ErrorText(std::string_view frame) {
  frame.remove_prefix(1);
  while (!frame.empty() && (frame.back() == '\n' || frame.back() == '\r')) frame.remove_suffix(1);
  return frame;
}

}  // namespace

PubSubSession::PubSubSession(WorkerContext* worker, ClientSession* client,
                             std::function<void()> on_change)
    : worker_(worker), client_(client), on_change_(std::move(on_change)) {}

PubSubSession::~PubSubSession() { OnClientClosed(); }

int64_t PubSubSession::ReportedCount(SubscriptionType type) const {
  // Redis 7.0: shard channels are counted apart from channels and patterns.
  if (type == SubscriptionType::kShard) return static_cast<int64_t>(count(type));
  return static_cast<int64_t>(count(SubscriptionType::kChannel) +
                              count(SubscriptionType::kPattern));
}

PubSubSession::Node* PubSubSession::NodeAt(const NodeAddress& address) {
  std::string key = address.ToString();
  auto it = nodes_by_address_.find(key);
  if (it != nodes_by_address_.end()) return it->second;
  auto node = std::make_unique<Node>();
  node->conn = worker_->private_pool().Acquire(address, this);
  Node* raw = node.get();
  nodes_.emplace(raw->conn, std::move(node));
  nodes_by_address_.emplace(std::move(key), raw);
  return raw;
}

BackendConn* PubSubSession::Owner(SubscriptionType type, std::string_view name) const {
  return worker_->router().ForSlot(type == SubscriptionType::kShard ? KeyHashSlot(name)
                                                                    : kPubSubHomeSlot);
}

PubSubSession::Nodes PubSubSession::NodesFor(SubscriptionType type, std::string_view name) {
  Nodes nodes;
  BackendConn* owner = Owner(type, name);
  if (owner == nullptr) return nodes;
  nodes.push_back(NodeAt(owner->address()));  // the home node first: see OnPrivateFrame
  const ClusterViewPtr& view = worker_->router().view();
  if (!LivesOnEveryMaster(type, name) || view == nullptr) return nodes;
  for (const Shard& shard : view->shards()) {
    if (shard.slots.empty()) continue;
    Node* node = NodeAt(shard.master.address);
    if (!Has(nodes, node)) nodes.push_back(node);
  }
  return nodes;
}

void PubSubSession::Subscribe(SubscriptionType type, const std::vector<std::string_view>& names) {
  // Every name needs a master before anything changes: a command is answered whole.
  for (std::string_view name : names) {
    if (worker_->router().view() == nullptr || Owner(type, name) == nullptr) {
      worker_->stats().CountError(ErrorKind::kClusterDown);
      client_->Reply(worker_->router().view() == nullptr ? errors::NoTopology()
                                                         : errors::SlotNotServed());
      return;
    }
  }
  const bool was_subscribed = subscribed();
  NameMap& map = names_[Index(type)];
  SendList to_send;
  reply_.clear();
  for (std::string_view name : names) {
    if (map.find(AbslView(name)) == map.end()) {
      Nodes nodes = NodesFor(type, name);
      for (Node* node : nodes) {
        ++node->subscriptions;
        AddTo(&to_send, node, name);
      }
      map.emplace(std::string(name), std::move(nodes));
    }
    AppendSubscriptionReply(&reply_, type, true, name, false, ReportedCount(type),
                            client_->resp3());
  }
  ReplyWhenConfirmed(reply_, to_send, type, true);
  ModeMaybeChanged(was_subscribed);
}

void PubSubSession::ReplyWhenConfirmed(std::string reply, SendList& to_send, SubscriptionType type,
                                       bool subscribe) {
  if (to_send.empty()) {
    client_->Reply(reply);
    return;
  }
  auto owned = std::make_unique<Pending>();
  Pending* pending = owned.get();
  pending->request = client_->NewRequest();
  pending->reply = std::move(reply);
  pending_.emplace(pending, std::move(owned));
  for (auto& [node, list] : to_send) {
    pending->outstanding += SendGrouped(node, type, subscribe, list, pending);
  }
}

void PubSubSession::SentDone(Pending* pending, std::string_view error) {
  if (pending == nullptr) return;
  // A node's refusal replaces the confirmations: the client sees the error, as from Redis.
  if (!error.empty()) pending->reply.assign(error.data(), error.size());
  if (--pending->outstanding > 0) return;
  std::unique_ptr<Pending> owned = std::move(pending_[pending]);
  pending_.erase(pending);
  client_->Complete(owned->request, owned->reply);
}

void PubSubSession::Unsubscribe(SubscriptionType type, const std::vector<std::string_view>& names) {
  const bool was_subscribed = subscribed();
  NameMap& map = names_[Index(type)];
  std::vector<std::string> targets;
  if (names.empty()) {
    for (const auto& [name, node] : map) targets.push_back(name);
  } else {
    targets.assign(names.begin(), names.end());
  }
  reply_.clear();
  if (targets.empty()) {
    AppendSubscriptionReply(&reply_, type, false, "", true, ReportedCount(type), client_->resp3());
    client_->Reply(reply_);
    return;
  }
  SendList to_send;
  for (const std::string& name : targets) {
    auto found = map.find(name);
    if (found != map.end()) {
      for (Node* node : found->second) {
        --node->subscriptions;
        AddTo(&to_send, node, name);
      }
      map.erase(found);
    }
    AppendSubscriptionReply(&reply_, type, false, name, false, ReportedCount(type),
                            client_->resp3());
  }
  ReplyWhenConfirmed(reply_, to_send, type, false);
  ReleaseIdleNodes();
  ModeMaybeChanged(was_subscribed);
}

void PubSubSession::Ping(const std::vector<std::string_view>& args) {
  reply_.clear();
  AppendSubscribedPong(&reply_, args.size() > 1 ? args[1] : std::string_view());
  client_->Reply(reply_);
}

void PubSubSession::UnsubscribeAll() {
  const bool was_subscribed = subscribed();
  for (SubscriptionType type :
       {SubscriptionType::kChannel, SubscriptionType::kPattern, SubscriptionType::kShard}) {
    NameMap& map = names_[Index(type)];
    absl::flat_hash_map<Node*, std::vector<std::string>> by_node;
    for (auto& [name, nodes] : map) {
      for (Node* node : nodes) {
        --node->subscriptions;
        by_node[node].push_back(name);
      }
    }
    map.clear();
    for (auto& [node, list] : by_node) SendGrouped(node, type, false, list, nullptr);
  }
  ReleaseIdleNodes();
  ModeMaybeChanged(was_subscribed);
}

void PubSubSession::OnClientClosed() {
  // The client's Close() detached the pending requests from its queue; they are ours to free.
  for (auto& [raw, pending] : pending_) worker_->pool().Release(pending->request);
  pending_.clear();
  for (auto& [conn, node] : nodes_) worker_->private_pool().Discard(conn);
  nodes_.clear();
  nodes_by_address_.clear();
  for (NameMap& map : names_) map.clear();
}

void PubSubSession::OnTopologyChanged() {
  const ClusterViewPtr& view = worker_->router().view();
  if (!subscribed() || view == nullptr) return;
  for (SubscriptionType type : {SubscriptionType::kChannel, SubscriptionType::kPattern}) {
    SendList to_subscribe, to_unsubscribe;
    for (auto& [name, nodes] : names_[Index(type)]) {
      if (!LivesOnEveryMaster(type, name)) continue;
      Nodes masters = NodesFor(type, name);
      for (Node* node : masters) {
        if (Has(nodes, node)) continue;
        nodes.push_back(node);
        ++node->subscriptions;
        AddTo(&to_subscribe, node, name);
      }
      for (size_t i = nodes.size(); i-- > 1;) {  // nodes[0], the home node, stays
        if (Has(masters, nodes[i])) continue;
        --nodes[i]->subscriptions;
        AddTo(&to_unsubscribe, nodes[i], name);
        nodes.erase(nodes.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    for (auto& [node, list] : to_subscribe) SendGrouped(node, type, true, list, nullptr);
    for (auto& [node, list] : to_unsubscribe) SendGrouped(node, type, false, list, nullptr);
  }
  ReleaseIdleNodes();
}

size_t PubSubSession::SendGrouped(Node* node, SubscriptionType type, bool subscribe,
                                  const std::vector<std::string>& names, Pending* pending) {
  if (type != SubscriptionType::kShard) {
    Send(node, type, subscribe, names, pending);
    return 1;
  }
  std::vector<std::pair<uint16_t, std::vector<std::string>>> by_slot;
  for (const std::string& name : names) {
    uint16_t slot = KeyHashSlot(name);
    auto it = std::find_if(by_slot.begin(), by_slot.end(),
                           [slot](const auto& entry) { return entry.first == slot; });
    if (it == by_slot.end()) it = by_slot.insert(by_slot.end(), {slot, {}});
    it->second.push_back(name);
  }
  for (auto& [slot, list] : by_slot) Send(node, type, subscribe, std::move(list), pending);
  return by_slot.size();
}

void PubSubSession::Send(Node* node, SubscriptionType type, bool subscribe,
                         std::vector<std::string> names, Pending* pending) {
  std::string command;
  resp::AppendArrayHeader(&command, names.size() + 1);
  resp::AppendBulk(&command, SubscriptionCommand(type, subscribe));
  for (const std::string& name : names) resp::AppendBulk(&command, name);
  node->conn->Write(command);
  const size_t frames = names.size();
  node->sent.push_back(Node::Sent{type, subscribe, std::move(names), frames, pending});
}

void PubSubSession::OnPrivateFrame(PrivateConn* conn, std::string_view frame) {
  auto it = nodes_.find(conn);
  if (it == nodes_.end()) return;
  Node* node = it->second.get();
  if (frame[0] == '-') {
    HandleError(node, frame);
    return;
  }
  PubSubFrame parsed = ParsePubSubFrame(frame);
  switch (parsed.kind) {
    case PubSubFrameKind::kMessage: {
      const NameMap& map = names_[Index(parsed.type)];
      auto found = map.find(AbslView(parsed.name));
      // A message for a name unsubscribed meanwhile (or living elsewhere) is not the client's.
      if (found == map.end() || !Has(found->second, node)) return;
      if (!FromItsSource(found->second, node, parsed)) return;
      worker_->stats().pubsub_messages.Add();
      if (client_->resp3()) {  // a push frame; nodes' subscription connections speak RESP2
        AssignMessagePush(&reply_, frame);
        client_->Reply(reply_);
        return;
      }
      client_->Reply(frame);  // checked against client-output-buffer-limit pubsub there
      return;
    }
    case PubSubFrameKind::kSubscribed:
    case PubSubFrameKind::kUnsubscribed:
      HandleConfirmation(node, parsed);
      ReleaseIdleNodes();
      return;
    case PubSubFrameKind::kOther:
      SP_LOG(kDebug) << "cluster node " << conn->address_text()
                     << " sent an unexpected frame on a subscription connection";
      return;
  }
}

bool PubSubSession::FromItsSource(const Nodes& nodes, const Node* node, const PubSubFrame& frame) {
  // A published message reaches every node over the cluster bus, so a name living on every master
  // receives it once per master: only the home node's copy (nodes[0]) is the client's. A keyspace
  // notification comes from the one node whose key it is about.
  if (nodes.size() < 2 || node == nodes[0]) return true;
  return IsKeyspaceChannel(frame.type == SubscriptionType::kPattern ? frame.channel : frame.name);
}

void PubSubSession::HandleConfirmation(Node* node, const PubSubFrame& frame) {
  const bool subscribe = frame.kind == PubSubFrameKind::kSubscribed;
  if (!node->sent.empty()) {
    Node::Sent& sent = node->sent.front();
    // Redis confirms the names of a command one by one, in order.
    if (sent.type == frame.type && sent.subscribe == subscribe &&
        sent.names[sent.names.size() - sent.frames_left] == frame.name) {
      if (--sent.frames_left == 0) {
        Pending* pending = sent.pending;
        node->sent.pop_front();
        SentDone(pending, {});
      }
      return;
    }
  }
  if (!subscribe && frame.type == SubscriptionType::kShard) {
    // Not an answer to us: the node dropped the shard channel because its slot moved away.
    auto found = names_[Index(frame.type)].find(AbslView(frame.name));
    if (found != names_[Index(frame.type)].end() && Has(found->second, node)) {
      DropAndTell(frame.type, std::string(frame.name));
    }
    return;
  }
  SP_LOG(kDebug) << "unexpected subscription confirmation from cluster node "
                 << node->conn->address_text();
}

void PubSubSession::HandleError(Node* node, std::string_view frame) {
  if (node->sent.empty()) {
    SP_LOG(kDebug) << "cluster node " << node->conn->address_text()
                   << " sent an error on a subscription connection: " << ErrorText(frame);
    return;
  }
  Node::Sent sent = std::move(node->sent.front());
  node->sent.pop_front();
  if (!sent.subscribe) {  // the names are gone from the client's sets already
    SentDone(sent.pending, {});
    return;
  }
  NameMap& map = names_[Index(sent.type)];
  Redirect redirect = ParseRedirect(frame);
  if (redirect.kind == RedirectKind::kMoved && sent.type == SubscriptionType::kShard) {
    if (redirect.address.host.empty()) redirect.address.host = node->conn->address().host;
    worker_->router().OnMoved(redirect.slot, redirect.address);
    worker_->forwarder().RequestTopologyRefresh();
    Node* target = NodeAt(redirect.address);
    std::vector<std::string> moved;
    for (const std::string& name : sent.names) {
      auto found = map.find(name);
      if (found == map.end() || !Has(found->second, node)) continue;
      found->second = {target};  // a shard channel lives on one master
      --node->subscriptions;
      ++target->subscriptions;
      moved.push_back(name);
    }
    if (!moved.empty() && sent.pending != nullptr) {
      sent.pending->outstanding += SendGrouped(target, sent.type, true, moved, sent.pending);
    } else if (!moved.empty()) {
      SendGrouped(target, sent.type, true, moved, nullptr);
    }
    SentDone(sent.pending, {});
    ReleaseIdleNodes();
    return;
  }
  SP_LOG(kWarning) << "cluster node " << node->conn->address_text() << " refused "
                   << SubscriptionCommand(sent.type, true) << " for client " << client_->peer()
                   << ": " << ErrorText(frame);
  const bool was_subscribed = subscribed();
  for (const std::string& name : sent.names) {
    auto found = map.find(name);
    if (found == map.end() || !Has(found->second, node)) continue;
    Nodes& nodes = found->second;
    nodes.erase(std::find(nodes.begin(), nodes.end(), node));
    --node->subscriptions;
    if (nodes.empty()) map.erase(found);
  }
  if (sent.pending != nullptr) {
    SentDone(sent.pending, frame);
  } else {
    for (const std::string& name : sent.names) {
      reply_.clear();
      AppendSubscriptionReply(&reply_, sent.type, false, name, false, ReportedCount(sent.type),
                              client_->resp3());
      client_->Reply(reply_);
    }
  }
  ReleaseIdleNodes();
  ModeMaybeChanged(was_subscribed);
}

void PubSubSession::DropAndTell(SubscriptionType type, const std::string& name) {
  const bool was_subscribed = subscribed();
  NameMap& map = names_[Index(type)];
  auto found = map.find(name);
  if (found == map.end()) return;
  for (Node* node : found->second) --node->subscriptions;
  map.erase(found);
  reply_.clear();
  AppendSubscriptionReply(&reply_, type, false, name, false, ReportedCount(type), client_->resp3());
  client_->Reply(reply_);
  ReleaseIdleNodes();
  ModeMaybeChanged(was_subscribed);
}

void PubSubSession::OnPrivateConnLost(PrivateConn* conn, const std::string& error) {
  auto it = nodes_.find(conn);
  if (it == nodes_.end()) {
    worker_->private_pool().Discard(conn);
    return;
  }
  if (it->second->subscriptions == 0) {  // only UNSUBSCRIBE confirmations were still due
    std::unique_ptr<Node> node = std::move(it->second);
    nodes_by_address_.erase(conn->address_text());
    nodes_.erase(it);
    worker_->private_pool().Discard(conn);
    // With the connection gone the names are unsubscribed indeed: confirm.
    for (const Node::Sent& sent : node->sent) SentDone(sent.pending, {});
    return;
  }
  SP_LOG(kWarning) << "closing subscribed client " << client_->peer() << " (id " << client_->id()
                   << "): its subscription connection to cluster node " << conn->address_text()
                   << " was lost (" << ErrorText(error) << ")";
  client_->Close();  // the client's SessionState discards every subscription connection
}

void PubSubSession::ReleaseIdleNodes() {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    Node& node = *it->second;
    if (node.subscriptions > 0 || !node.sent.empty()) {
      ++it;
      continue;
    }
    PrivateConn* conn = it->first;
    nodes_by_address_.erase(conn->address_text());
    worker_->private_pool().Release(conn);
    nodes_.erase(it++);
  }
}

void PubSubSession::ModeMaybeChanged(bool was_subscribed) {
  client_->set_subscribed(subscribed());
  if (was_subscribed != subscribed() && on_change_) on_change_();
}

}  // namespace slotplane::dataplane
