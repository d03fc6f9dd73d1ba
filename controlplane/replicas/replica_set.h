#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/store/etcd_client.h"
#include "controlplane/store/etcd_watcher.h"

namespace slotplane::control {

struct ReplicaOptions {
  std::string prefix = "/slotplane/";  // the store's key prefix
  std::string id;                      // replica-id
  std::string advertise;               // the address shown in status
  int64_t ttl_seconds = 5;             // of the lease: how long a dead leader keeps the role
};

struct ReplicaInfo {
  std::string id;
  std::string address;
  bool leader = false;
};

// This replica's membership in the set of control-plane replicas sharing one etcd store, and
// the election of their leader (the one that polls the topology).
//
// On its own thread: grants a lease (TTL ttl_seconds), registers `<prefix>replicas/<id>` =
// advertise with it and keeps it alive (every ttl/5). Campaigns with a transaction: when
// `<prefix>leader` does not exist (create_revision == 0), put it = id with the lease. The key
// goes away with the lease, so a leader that dies (SIGKILL) is replaced once its lease expires
// (at most ttl_seconds); followers watch the key and campaign the moment it is deleted. A
// replica that cannot renew its lease for a whole TTL steps down before its lease can have
// expired elsewhere, so two replicas never poll as leader for long. Stop() revokes the lease: a
// clean stop hands the role over at once.
//
// `on_leadership(bool)` is called on the thread when the role changes.
class ReplicaSet {
 public:
  ReplicaSet(EtcdClient* client, ReplicaOptions options, std::function<void(bool)> on_leadership)
      : client_(client), options_(std::move(options)), on_leadership_(std::move(on_leadership)) {}
  ~ReplicaSet() { Stop(); }
  ReplicaSet(const ReplicaSet&) = delete;
  ReplicaSet& operator=(const ReplicaSet&) = delete;

  void Start();
  void Stop();

  bool leader() const;
  const ReplicaOptions& options() const { return options_; }
  // Every registered replica, the leader marked (read from etcd).
  absl::StatusOr<std::vector<ReplicaInfo>> List() const;

  std::string leader_key() const { return options_.prefix + "leader"; }
  std::string replicas_prefix() const { return options_.prefix + "replicas/"; }

 private:
  void Run();
  // One round: lease, registration, keep-alive, campaign. Returns an error to log.
  absl::Status Round();
  absl::Status KeepAlive();
  absl::Status Campaign();
  void SetLeader(bool leader);

  EtcdClient* const client_;
  const ReplicaOptions options_;
  const std::function<void(bool)> on_leadership_;
  std::unique_ptr<EtcdWatcher> leader_watch_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool woken_ = false;
  bool leader_ = false;
  bool role_known_ = false;  // the first campaign's outcome is logged either way
  int64_t lease_ = 0;        // 0: none
  absl::Time lease_renewed_ = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace slotplane::control
