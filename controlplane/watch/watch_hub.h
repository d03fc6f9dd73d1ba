#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "controlplane/metrics/metrics.h"
#include "controlplane/watch/convergence.h"
#include "controlplane/watch/snapshot.h"
#include "grpcpp/support/status.h"
#include "slotplane/v1/admin.pb.h"

namespace slotplane::control {

// One proxy's watch stream as the hub sees it (implemented by WatchReactor). Every method is
// thread-safe, returns at once and never calls back into the hub. A stream is reference
// counted: the hub holds a reference while it uses a stream outside its own lock, so a stream
// that ends meanwhile is deleted only afterwards.
class WatchStream {
 public:
  // A newer version is available. The stream writes it when it can; while a write is in flight
  // only the latest offer is kept.
  virtual void Offer(const SnapshotPtr& snapshot) = 0;
  // Ends the stream with `status` (after the write in flight, if any).
  virtual void Close(const grpc::Status& status) = 0;
  // What ListProxies shows; false until the proxy said Hello.
  virtual bool Describe(v1::ProxyInfo* out) const = 0;
  virtual bool HelloReceived() const = 0;
  virtual uint64_t AckedVersion() const = 0;
  virtual void Ref() = 0;
  virtual void Unref() = 0;

 protected:
  virtual ~WatchStream() = default;
};

// The set of open watch streams and the current snapshot: fans each new version out to every
// stream, lists the proxies, and tells WaitForVersion callers when the fleet caught up. Streams
// that have not said Hello yet are not proxies: they receive nothing and nobody waits for them.
// Thread-safe. Lock order: callers' locks (ConfigState) → the hub's → a stream's; the hub never
// calls gRPC or a waiter's callback while it holds its lock.
class WatchHub {
 public:
  using WaiterId = uint64_t;
  // Gets OK and how many proxies acked (0 when none is connected), or Unavailable when the hub
  // shuts down first.
  using WaiterDone = std::function<void(const grpc::Status& status, int proxies)>;

  explicit WatchHub(ControlMetrics* metrics) : metrics_(metrics) {}
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // Registers a new stream; false once the hub is shutting down (the stream must end).
  bool Add(WatchStream* stream);
  // Unregisters a stream that ended (from its OnDone); its proxy id is free again.
  void Remove(WatchStream* stream);
  // Reserves `proxy_id` for `stream` (at its first Hello): false when another registered stream
  // holds it, so that one proxy identity is never claimed twice while its stream lives. A claimed
  // id has its slotplane_control_proxy_acked_version series until Remove.
  bool ClaimProxyId(WatchStream* stream, const std::string& proxy_id);

  // Makes `snapshot` current and offers it to every stream. Versions only grow: an older or equal
  // version is ignored.
  void Publish(SnapshotPtr snapshot);
  SnapshotPtr Current() const;

  // Every stream whose proxy said Hello.
  std::vector<v1::ProxyInfo> Proxies() const;

  // A stream's proxy said Hello or acked: waiters may be done, the fleet may have converged.
  void AckProgress();

  // Calls `done` once `version` is published and every proxy acked it or a later one (at once
  // when that already holds; else from the thread of the ACK, disconnect or publish that made it
  // hold). Returns an id for CancelWaiter.
  WaiterId AddWaiter(uint64_t version, WaiterDone done);
  // True when the waiter was removed before `done` ran (then it never will).
  bool CancelWaiter(WaiterId id);
  // The proxies that have not acked `version`, for error messages (at most 10, then a count).
  std::string Laggards(uint64_t version) const;

  // Ends every stream and every waiter with `status` and refuses new ones.
  void Shutdown(const grpc::Status& status);

 private:
  struct Waiter {
    WaiterId id;
    uint64_t version;
    WaiterDone done;
  };

  // References every registered stream, for use outside the lock; release with Release().
  std::vector<WatchStream*> RefStreams() const;
  static void Release(const std::vector<WatchStream*>& streams);
  // Takes the waiters that are done now out of waiters_; the caller runs them unlocked.
  struct DoneWaiter {
    WaiterDone done;
    grpc::Status status;
    int proxies;
  };
  std::vector<DoneWaiter> TakeDoneWaitersLocked();
  static void RunDone(std::vector<DoneWaiter> done);
  // Sets the stream and per-proxy gauges and observes the versions that converged now.
  void UpdateGaugesLocked();

  ControlMetrics* const metrics_;
  mutable std::mutex mu_;
  std::unordered_set<WatchStream*> streams_;
  std::unordered_map<std::string, WatchStream*> by_proxy_id_;         // claimed ids
  std::unordered_map<WatchStream*, std::string> proxy_id_of_;         // the reverse, for Remove
  std::unordered_map<WatchStream*, prometheus::Gauge*> acked_gauge_;  // of claimed ids
  ConvergenceTracker convergence_;
  SnapshotPtr current_;
  std::list<Waiter> waiters_;
  WaiterId next_waiter_id_ = 1;
  bool shutting_down_ = false;
};

}  // namespace slotplane::control
