#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "common/cluster_view.h"
#include "dataplane/backend/private_conn.h"
#include "dataplane/request/request.h"
#include "dataplane/stateful/pubsub_frames.h"

namespace slotplane::dataplane {

class BackendConn;
class ClientSession;
class WorkerContext;

// A client's subscriptions (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs), kept on
// private connections to the masters. Worker thread only; owned by the client's SessionState.
//
// Placement (pubsub_placement.h): every classic channel and pattern lives on the home node (the
// master of kPubSubHomeSlot), where PUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT go too, so that the
// counts are one Redis's and a message matching a channel and a pattern arrives as "message" then
// "pmessage" (one node, one connection). Keyspace-notification channels and patterns that can
// match one also live on every other master, since a node publishes only its own keys' events;
// of their messages the client gets the home node's copy of a published message and every node's
// keyspace notifications. Shard channels live on their slot's master. A client needs one
// connection per master it has subscriptions on.
//
// Replies: the proxy keeps the subscription sets itself and builds Redis's confirmations
// ("subscribe", "unsubscribe", ... with the count Redis would give: channels + patterns for the
// classic kinds, shard channels for the sharded ones) when a command arrives, in command order.
// The confirmations of a command leave once every node involved confirmed its part, so a client
// that saw "subscribe" is subscribed (a PUBLISH after it reaches the client); replies keep the
// client's command order through its reply queue. Messages are delivered as they arrive, in
// each node's order (so in publish order per channel), behind replies still pending; a message
// for a name the client has unsubscribed meanwhile is dropped.
//
// Moves and failures: when a shard channel's slot leaves its node, Redis 7 sends "sunsubscribe"
// on its own; the proxy passes it on (with the client's count) and the client subscribes again,
// landing on the new owner. A MOVED answer to SSUBSCRIBE is followed to the new owner. A lost
// subscription connection closes the client's connection (its subscriptions are gone, as when a
// Redis server goes away); client libraries reconnect and subscribe again.
//
// Memory: the proxy keeps reading the subscription connections (so a node never holds a
// stalled connection); the client, marked subscribed (ClientSession::set_subscribed), falls under
// the pubsub class of client-output-buffer-limit (Redis's 32mb 8mb 60 by default), which closes
// it with a log line, as Redis would.
class PubSubSession : public PrivateConnUser {
 public:
  // `on_change` runs after the client entered or left subscribed mode.
  PubSubSession(WorkerContext* worker, ClientSession* client, std::function<void()> on_change);
  ~PubSubSession();
  PubSubSession(const PubSubSession&) = delete;
  PubSubSession& operator=(const PubSubSession&) = delete;

  // (P|S)SUBSCRIBE name [name ...]: `names` are the arguments after the command name.
  void Subscribe(SubscriptionType type, const std::vector<std::string_view>& names);
  // (P|S)UNSUBSCRIBE [name ...]; no names: every subscription of that type.
  void Unsubscribe(SubscriptionType type, const std::vector<std::string_view>& names);
  // PING [message] while subscribed (RESP2): "*2 $4 pong $<message>".
  void Ping(const std::vector<std::string_view>& args);
  // RESET: every subscription ends without a confirmation to the client.
  void UnsubscribeAll();
  // The client disconnected: the connections are closed.
  void OnClientClosed();
  // A new cluster view: names that live on every master are subscribed on masters that joined
  // and unsubscribed from nodes that are no longer masters with slots (the home node, where they
  // were placed first, keeps them).
  void OnTopologyChanged();

  bool subscribed() const { return total() > 0; }
  size_t count(SubscriptionType type) const { return names_[Index(type)].size(); }

  // --- PrivateConnUser ---
  void OnPrivateFrame(PrivateConn* conn, std::string_view frame) override;
  void OnPrivateConnLost(PrivateConn* conn, const std::string& error) override;

 private:
  // A client command whose confirmations wait for the nodes: its place in the reply queue.
  struct Pending {
    Request* request = nullptr;
    std::string reply;       // the confirmations, built when the command arrived
    size_t outstanding = 0;  // commands sent to nodes and not confirmed yet
  };
  // One master the client has subscriptions on, and the private connection to it.
  struct Node {
    PrivateConn* conn = nullptr;
    // A command sent and the confirmations still due for it (one per name).
    struct Sent {
      SubscriptionType type;
      bool subscribe;
      std::vector<std::string> names;
      size_t frames_left;
      Pending* pending;  // the client command waiting for it, if any
    };
    std::deque<Sent> sent;
    size_t subscriptions = 0;  // names of any type that live on this node
  };
  using Nodes = absl::InlinedVector<Node*, 1>;  // where a name lives: one master, or all
  using NameMap = absl::flat_hash_map<std::string, Nodes>;
  using SendList = std::vector<std::pair<Node*, std::vector<std::string>>>;

  static size_t Index(SubscriptionType type) { return static_cast<size_t>(type); }
  size_t total() const { return names_[0].size() + names_[1].size() + names_[2].size(); }
  // The count Redis reports in a confirmation of `type`.
  int64_t ReportedCount(SubscriptionType type) const;
  // The master a subscription of `type` lives on (the home node, or a shard channel's slot
  // master); nullptr when no master serves that slot.
  BackendConn* Owner(SubscriptionType type, std::string_view name) const;
  // The masters `name` lives on, the owner first; empty without a topology (or its slot not
  // served).
  Nodes NodesFor(SubscriptionType type, std::string_view name);
  // Whether a message that `node` sent for a name living on `nodes` is the client's copy.
  static bool FromItsSource(const Nodes& nodes, const Node* node, const PubSubFrame& frame);
  Node* NodeAt(const NodeAddress& address);
  void Send(Node* node, SubscriptionType type, bool subscribe, std::vector<std::string> names,
            Pending* pending);
  // Sends `names` (all on `node`) grouped the way the node accepts them: shard channels one
  // command per slot (a node refuses SSUBSCRIBE across slots), the others in one command.
  // Returns how many commands it sent.
  size_t SendGrouped(Node* node, SubscriptionType type, bool subscribe,
                     const std::vector<std::string>& names, Pending* pending);
  // Replies `reply` now, or once `sends` commands are confirmed.
  void ReplyWhenConfirmed(std::string reply, SendList& to_send, SubscriptionType type,
                          bool subscribe);
  // A command sent for `pending` was answered (confirmed, or refused with `error`).
  void SentDone(Pending* pending, std::string_view error);
  void HandleConfirmation(Node* node, const PubSubFrame& frame);
  void HandleError(Node* node, std::string_view frame);
  // Drops `name` and tells the client with a spontaneous unsubscribe frame.
  void DropAndTell(SubscriptionType type, const std::string& name);
  // Gives back the connections of nodes without subscriptions once their confirmations are in.
  void ReleaseIdleNodes();
  void ModeMaybeChanged(bool was_subscribed);

  WorkerContext* worker_;
  ClientSession* client_;
  std::function<void()> on_change_;
  NameMap names_[3];  // by SubscriptionType: name -> node it lives on
  absl::flat_hash_map<PrivateConn*, std::unique_ptr<Node>> nodes_;
  absl::flat_hash_map<std::string, Node*> nodes_by_address_;
  absl::flat_hash_map<Pending*, std::unique_ptr<Pending>> pending_;
  std::string reply_;
};

}  // namespace slotplane::dataplane
