#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cluster_view.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {

struct RedisClusterOptions {
  int masters = 3;
  int replicas_per_master = 1;
  // cluster-node-timeout: how long a silent node takes to be declared failed (and a failover to
  // start). Failover tests lower it.
  absl::Duration node_timeout = absl::Milliseconds(2000);
  // When non-empty, every node gets requirepass and masterauth with it.
  std::string password;
  // TLS beside TCP: every node also listens on a tls-port with a certificate of a CA made for
  // the cluster (see RedisCluster::tls_file), requires client certificates (Redis's default
  // tls-auth-clients yes), and runs the cluster bus and replication over TLS (tls-cluster yes,
  // tls-replication yes). The fixture itself keeps using the plaintext ports.
  bool tls = false;
  // Bound on start-up: processes, cluster creation and agreement on the slot map.
  absl::Duration start_timeout = absl::Seconds(60);
};

// One node of a CLUSTER SHARDS reply.
struct ShardNodeInfo {
  std::string id;
  NodeAddress address;
  std::string role;    // "master" | "replica"
  std::string health;  // "online" | "fail" | "loading" (Redis 7.0 spelling)
};

// One shard of a CLUSTER SHARDS reply; a master that owns no slots is a shard without slots.
struct ShardInfo {
  std::vector<SlotRange> slots;
  std::vector<ShardNodeInfo> nodes;

  const ShardNodeInfo* master() const;
};

absl::StatusOr<std::vector<ShardInfo>> ParseClusterShards(const Reply& reply);

// A real Redis Cluster of redis-server child processes on free loopback ports, in a temporary
// directory; the destructor kills every node and removes the directory. Nodes are identified by
// their index in [0, node_count()); an index keeps its port across KillNode/RestartNode, while
// its role may change (a failover promotes a replica; a restarted master comes back as a
// replica). Topology questions are asked of the cluster itself, never assumed. Owned and used by
// one thread (the test's).
class RedisCluster {
 public:
  static absl::StatusOr<std::unique_ptr<RedisCluster>> Start(
      const RedisClusterOptions& options = {});

  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;
  ~RedisCluster();

  int node_count() const { return static_cast<int>(nodes_.size()); }
  NodeAddress address(int node) const;
  uint16_t port(int node) const { return nodes_[node].port; }
  std::vector<NodeAddress> addresses() const;
  // With RedisClusterOptions::tls: each node's TLS port, and the PEM files of the cluster's CA
  // ("ca.pem", "ca.key": sign more certificates with MakeTestCertificate(tls_dir(), ...)), of
  // the nodes ("node.pem", "node.key") and of a client ("client.pem", "client.key").
  uint16_t tls_port(int node) const { return nodes_[node].tls_port; }
  NodeAddress tls_address(int node) const;
  std::vector<NodeAddress> tls_addresses() const;
  std::string tls_dir() const { return dir_.File("tls"); }
  std::string tls_file(const std::string& name) const { return tls_dir() + "/" + name; }
  const std::string& password() const { return options_.password; }
  // The index of the node listening on `address`, if it is one of ours.
  std::optional<int> IndexOf(const NodeAddress& address) const;
  // A scratch directory that lives as long as the cluster (for test files such as pipes).
  const std::string& work_dir() const { return dir_.path(); }

  bool IsRunning(int node);
  absl::StatusOr<std::unique_ptr<TestClient>> Connect(int node,
                                                      const ClientOptions& options = {}) const;

  // For each slot, the index of the master that owns it (-1: uncovered); asked of a running node.
  absl::StatusOr<std::vector<int>> SlotOwners();
  // Masters that own slots, ordered by their first slot; asked of a running node.
  absl::StatusOr<std::vector<int>> Masters();
  // The master that owns `slot`, asked of a running node.
  absl::StatusOr<int> SlotOwner(uint16_t slot);
  // Running replicas that replicate `master`, asked of `master` itself.
  absl::StatusOr<std::vector<int>> ReplicasOf(int master);
  // Sends each command straight to the master that owns its key (argv[1]), one pipeline per
  // master, and returns the replies in the order of `commands`.
  absl::StatusOr<std::vector<Reply>> PipelineOnOwners(
      const std::vector<std::vector<std::string>>& commands);
  // Polls until every replica connected to `master` has acknowledged the replication stream up to
  // the master's offset at the call (so that a failover now loses no write made before it).
  absl::Status WaitForReplicasInSync(int master, absl::Duration timeout = absl::Seconds(30));
  // CLUSTER SHARDS as `node` sees it.
  absl::StatusOr<std::vector<ShardInfo>> Shards(int node);

  // SIGKILL, no goodbye to the cluster.
  absl::Status KillNode(int node);
  // Starts a killed node again on its port with its old nodes.conf (same node id) and waits until
  // it answers PING. It rejoins the cluster by itself; WaitUntilStable() waits for that.
  absl::Status RestartNode(int node);

  // Polls until the cluster agrees with reality: every running node answers, reports
  // cluster_state:ok with all 16384 slots ok and knows every node; all of them report the same
  // CLUSTER SHARDS (slots, ids, roles, health); every running node is "online" there and every
  // killed one "fail"; and every running replica's link to its master is up.
  absl::Status WaitUntilStable(absl::Duration timeout = absl::Seconds(30));
  // One check of the WaitUntilStable() condition: OK, or what is not stable yet.
  absl::Status CheckStable();
  // After `old_owner` of `slot` was killed: polls until the slot's owner is another, running node
  // and the cluster is stable as in WaitUntilStable().
  absl::Status WaitForFailover(uint16_t slot, int old_owner,
                               absl::Duration timeout = absl::Seconds(30));

  // The last lines of a node's log, for failure messages.
  std::string NodeLogTail(int node, size_t lines = 30) const;

 private:
  struct Node {
    uint16_t port = 0;
    uint16_t tls_port = 0;  // RedisClusterOptions::tls only
    std::string dir;
    std::unique_ptr<ChildProcess> process;
  };

  RedisCluster(RedisClusterOptions options, TempDir dir, std::string server_path)
      : options_(std::move(options)), dir_(std::move(dir)), server_path_(std::move(server_path)) {}

  absl::Status StartNodes(absl::Time deadline);
  absl::Status MakeCertificates();
  // Free ports for `node` (and its TLS port, with options_.tls).
  absl::Status PickPorts(int node);
  absl::Status SpawnNode(int node);
  // Polls until every node in `nodes` answers PING. A node that exits because its port was taken
  // meanwhile is started again on another port when `allow_new_port` (before the cluster exists).
  absl::Status WaitForNodesToAnswer(const std::vector<int>& nodes, absl::Time deadline,
                                    bool allow_new_port);
  absl::Status CreateCluster(absl::Time deadline);
  // The WaitUntilStable() conditions that one node can tell; sets `canonical_shards` to its
  // CLUSTER SHARDS in a form to compare with the other nodes'.
  absl::Status CheckNodeStable(int node, std::string* canonical_shards);
  // CLUSTER SLOTS of the first running node that answers it.
  absl::StatusOr<Reply> ClusterSlots();

  RedisClusterOptions options_;
  TempDir dir_;
  std::string server_path_;
  std::vector<Node> nodes_;
};

// Moves one slot between masters with the same steps as `redis-cli --cluster reshard`, exposed
// one by one so that a test can run traffic between them:
//   Begin()     CLUSTER SETSLOT IMPORTING on the target, MIGRATING on the source;
//   MoveKeys()  GETKEYSINSLOT + MIGRATE for one batch of keys (repeat until it returns 0);
//   Finish()    CLUSTER SETSLOT NODE target on the target, the source, then every other master,
//               and waits until the whole cluster agrees.
class SlotMigration {
 public:
  SlotMigration(RedisCluster& cluster, uint16_t slot, int source, int target)
      : cluster_(cluster), slot_(slot), source_(source), target_(target) {}

  absl::Status Begin();
  // Moves up to `max_keys` keys of the slot from the source to the target. Returns how many it
  // moved; 0 means the slot is empty on the source.
  absl::StatusOr<int> MoveKeys(int max_keys);
  absl::Status Finish(absl::Duration timeout = absl::Seconds(30));

  // All three steps at once, moving keys in batches of `batch`.
  absl::Status Run(int batch = 100);

 private:
  absl::Status SetSlot(int node, const std::vector<std::string>& args);

  RedisCluster& cluster_;
  const uint16_t slot_;
  const int source_;
  const int target_;
  std::string target_id_;  // set by Begin()
};

// The cluster's answer to CLUSTER KEYSLOT for `key`, asked of `client`.
absl::StatusOr<int> AskKeySlot(TestClient& client, const std::string& key);

// A key that hashes to `slot`: "<prefix>{<tag>}" with the smallest tag that lands there.
std::string KeyInSlot(uint16_t slot, const std::string& prefix = "key");

}  // namespace slotplane::integration
