#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "dataplane/backend/private_conn.h"
#include "dataplane/net/event_loop.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;
struct ClientCommand;
struct Request;

// What a client asked for with CLIENT TRACKING on (Redis's CLIENT_TRACKING_* flags).
struct TrackingMode {
  bool bcast = false;
  bool optin = false;
  bool optout = false;
  bool noloop = false;
  int64_t redirect = 0;               // client id of the REDIRECT target; 0: none
  int redirect_worker = -1;           // the worker that target lives on
  std::vector<std::string> prefixes;  // BCAST prefixes, sorted (""): every key
};

// One client's tracking state.
struct TrackedClient {
  ClientSession* session = nullptr;
  TrackingMode mode;
  bool caching = false;          // CLIENT CACHING yes|no, for the next command
  bool broken_redirect = false;  // the REDIRECT target was gone when an invalidation came
  // BCAST + NOLOOP: keys this client wrote whose invalidation has not come back yet.
  absl::flat_hash_map<std::string, int> written;
};

// Client-side caching through the proxy, for one worker (Redis's tracking.c, spread over a
// cluster). Worker thread only; owned by the worker.
//
// Invalidations from the nodes: once a client of this worker enables tracking, the worker opens
// one private RESP3 connection per master (a *link*) and sends `CLIENT TRACKING on BCAST` on it,
// so the node pushes `invalidate [keys]` for every key written on it, by anyone. The proxy keeps
// its own table key -> ids of its clients that read the key while tracking (default mode), and
// matches BCAST clients' prefixes itself; an invalidation from a node goes to exactly those
// clients, then the entry is forgotten. Since every master reports every write, a key that moved
// with its slot is reported by its new owner, and the migration's delete on the old owner is
// reported too. The shared connections carry no tracking state at all.
//
// Order: keys are remembered when the read is dispatched, before the node runs it, and an
// invalidation joins the client's reply queue behind the replies it waits for, so a client never
// sees an invalidation before the reply it invalidates (it may see one for a value that was
// already fresh: harmless).
//
// Whole-cache invalidations (a null `invalidate`, as Redis sends after FLUSHALL or to the client
// of a lost REDIRECT connection) go to every tracking client of the worker when a node flushed,
// when a link that was up is lost (failover, node gone), when the set of masters changes (slots
// moved to a new node, a replica promoted) and a link comes up late, since writes may have been
// missed meanwhile.
//
// Bounded: the fleet option tracking-table-max-keys (default 1,000,000, as Redis) over all
// workers, each worker holding at most its share (MaxKeys()); beyond, keys are evicted and their
// readers invalidated, as Redis does.
class ClientTracking : public PrivateConnUser {
 public:
  explicit ClientTracking(WorkerContext* worker);
  ~ClientTracking();
  ClientTracking(const ClientTracking&) = delete;
  ClientTracking& operator=(const ClientTracking&) = delete;

  // The client's state; null when it does not track.
  TrackedClient* Find(uint64_t id);
  // CLIENT TRACKING on with a checked `mode` (prefixes are added to the ones it has, as Redis).
  // `reply` is the client's queued place for +OK, and the client is held: both are settled once
  // every master's link is up (or failed), so no write after the OK is missed.
  void Enable(ClientSession* client, TrackingMode mode, Request* reply);
  void Disable(ClientSession* client);
  // A command of a tracking client, before it is routed: remembers the keys of reads (default
  // mode, per OPTIN/OPTOUT and CLIENT CACHING), forgets a NOLOOP client's writes.
  void OnCommand(ClientSession* client, const ClientCommand& command);
  // `target` may receive invalidations for clients that REDIRECT to it (any worker's).
  void AddTarget(ClientSession* target);
  // An invalidation for a REDIRECT target of this worker (possibly posted by another worker).
  void DeliverToTarget(uint64_t target, const std::vector<std::string_view>& keys, bool flush);
  void OnClientClosed(ClientSession* client);

  size_t tracked_keys() const { return table_.size(); }

  // --- PrivateConnUser: the links ---
  void OnPrivateFrame(PrivateConn* conn, std::string_view frame) override;
  void OnPrivateConnLost(PrivateConn* conn, const std::string& error) override;

 private:
  struct Link {
    PrivateConn* conn = nullptr;
    bool ready = false;    // BCAST confirmed
    bool settled = false;  // ready, or failed once
  };
  struct Waiter {
    ClientSession* client;
    Request* reply;
  };

  // Opens links to the masters of the current topology, closes the others (the topology pointer
  // is compared first, so this is cheap when nothing changed).
  void EnsureLinks();
  void OpenLink(const std::string& address_text, const NodeAddress& address);
  void CloseLinks();
  void SettleWaiters();
  void ScheduleRelink();
  void Remember(std::string_view key, uint64_t id);
  void ForgetReader(std::string_view key, uint64_t id);
  void Evict();
  // This worker's share of tracking-table-max-keys (at least 1).
  size_t MaxKeys() const;
  void OnInvalidation(const std::vector<std::string_view>& keys, bool flush);
  // Everything every tracking client cached is invalid.
  void FlushAll();
  // Sends `keys` (or a flush) to `client`: to itself in RESP3, or to its REDIRECT target.
  void Send(TrackedClient& client, const std::vector<std::string_view>& keys, bool flush);

  WorkerContext* worker_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<TrackedClient>> clients_;
  size_t bcast_clients_ = 0;
  absl::flat_hash_map<uint64_t, ClientSession*> targets_;
  absl::flat_hash_map<std::string, absl::InlinedVector<uint64_t, 2>> table_;
  absl::flat_hash_map<std::string, Link> links_;  // by node address text
  absl::flat_hash_map<PrivateConn*, std::string> link_of_;
  const void* seen_view_ = nullptr;  // the topology the links follow
  bool links_open_ = false;          // some client tracks: the links should be up
  bool confirmed_ = false;           // some client was answered +OK since the links opened
  std::vector<Waiter> waiters_;
  EventLoop::TimerId relink_timer_ = 0;
  int64_t relink_delay_ms_ = 100;
  std::vector<int> positions_;          // scratch: key positions
  std::vector<std::string_view> keys_;  // scratch: parsed and matched keys
  std::vector<std::string_view> one_;   // scratch: one key
  std::string frame_;                   // scratch: an outgoing frame
};

}  // namespace slotplane::dataplane
