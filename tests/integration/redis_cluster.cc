#include "tests/integration/redis_cluster.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/slot.h"
#include "tests/integration/tls_certs.h"

namespace slotplane::integration {
namespace {

constexpr char kLoopback[] = "127.0.0.1";
constexpr int kMaxPortRetriesPerNode = 5;
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);
constexpr absl::Duration kStablePollInterval = absl::Milliseconds(50);
constexpr absl::Duration kMigrateTimeout = absl::Seconds(5);

// Short timeouts for probes: a probe that hangs says "not ready", it does not stall the poll.
ClientOptions ProbeOptions(const std::string& password) {
  ClientOptions options;
  options.connect_timeout = absl::Milliseconds(500);
  options.io_timeout = absl::Seconds(2);
  options.password = password;
  return options;
}

absl::StatusOr<std::map<std::string, std::string>> InfoCommand(
    TestClient& client, const std::vector<std::string>& argv) {
  const Reply reply = client.Command(argv);
  if (reply.type != Reply::Type::kString) {
    return absl::UnavailableError(
        absl::StrCat(absl::StrJoin(argv, " "), " answered ", reply.DebugString()));
  }
  return ParseInfoText(reply.str);
}

// A RESP2 map (a flat [name, value, ...] array) as name -> value.
std::map<std::string, Reply> Fields(const Reply& flat) {
  std::map<std::string, Reply> fields;
  for (size_t i = 0; i + 1 < flat.elements.size(); i += 2) {
    fields[flat.elements[i].str] = flat.elements[i + 1];
  }
  return fields;
}

// CLUSTER SHARDS in a canonical text form (shards and their nodes sorted, replication offsets
// left out), equal on two nodes exactly when they agree on slots, ids, roles and health.
std::string CanonicalShards(const std::vector<ShardInfo>& shards) {
  std::vector<std::string> lines;
  for (const ShardInfo& shard : shards) {
    std::vector<std::string> ranges;
    for (const SlotRange& range : shard.slots) {
      ranges.push_back(absl::StrCat(range.first, "-", range.last));
    }
    std::vector<std::string> nodes;
    for (const ShardNodeInfo& node : shard.nodes) {
      nodes.push_back(
          absl::StrCat(node.address.port, "/", node.id, "/", node.role, "/", node.health));
    }
    std::sort(nodes.begin(), nodes.end());
    lines.push_back(absl::StrCat("[", absl::StrJoin(ranges, ","), "] ", absl::StrJoin(nodes, " ")));
  }
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n");
}

// INFO replication of a master lists each connected replica as "slaveN:ip=...,port=...,offset=...".
bool IsReplicaField(const std::string& name) {
  return name.size() > 5 && absl::StartsWith(name, "slave") && absl::ascii_isdigit(name[5]);
}

absl::StatusOr<std::string> NodeId(TestClient& client) {
  const Reply reply = client.Command({"CLUSTER", "MYID"});
  if (reply.type != Reply::Type::kString) {
    return absl::UnavailableError(absl::StrCat("CLUSTER MYID answered ", reply.DebugString()));
  }
  return reply.str;
}

}  // namespace

const ShardNodeInfo* ShardInfo::master() const {
  for (const ShardNodeInfo& node : nodes) {
    if (node.role == "master") return &node;
  }
  return nullptr;
}

absl::StatusOr<std::vector<ShardInfo>> ParseClusterShards(const Reply& reply) {
  if (reply.type != Reply::Type::kArray) {
    return absl::UnavailableError(absl::StrCat("CLUSTER SHARDS answered ", reply.DebugString()));
  }
  std::vector<ShardInfo> shards;
  for (const Reply& shard_reply : reply.elements) {
    std::map<std::string, Reply> fields = Fields(shard_reply);
    ShardInfo shard;
    const std::vector<Reply>& ranges = fields["slots"].elements;
    for (size_t i = 0; i + 1 < ranges.size(); i += 2) {
      shard.slots.push_back(
          {static_cast<uint16_t>(ranges[i].integer), static_cast<uint16_t>(ranges[i + 1].integer)});
    }
    for (const Reply& node_reply : fields["nodes"].elements) {
      std::map<std::string, Reply> node = Fields(node_reply);
      shard.nodes.push_back({node["id"].str,
                             {node["ip"].str, static_cast<uint16_t>(node["port"].integer)},
                             node["role"].str,
                             node["health"].str});
    }
    shards.push_back(std::move(shard));
  }
  return shards;
}

absl::StatusOr<std::unique_ptr<RedisCluster>> RedisCluster::Start(
    const RedisClusterOptions& options) {
  if (options.masters < 3 || options.replicas_per_master < 0) {
    return absl::InvalidArgumentError("a Redis Cluster needs at least 3 masters");
  }
  absl::StatusOr<std::string> server = FindOnPath("redis-server");
  if (!server.ok() || !FindOnPath("redis-cli").ok()) {
    return absl::FailedPreconditionError(
        "redis-server and redis-cli (7.x) must be on PATH for the integration tests; on Debian: "
        "apt-get install redis-server redis-tools");
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("slotplane-cluster");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<RedisCluster> cluster(
      new RedisCluster(options, *std::move(dir), *std::move(server)));
  const absl::Time deadline = absl::Now() + options.start_timeout;
  if (options.tls) IT_RETURN_IF_ERROR(cluster->MakeCertificates());
  IT_RETURN_IF_ERROR(cluster->StartNodes(deadline));
  IT_RETURN_IF_ERROR(cluster->CreateCluster(deadline));
  IT_RETURN_IF_ERROR(cluster->WaitUntilStable(deadline - absl::Now()));
  return cluster;
}

RedisCluster::~RedisCluster() {
  // Kill every node before any directory goes away.
  for (Node& node : nodes_) node.process.reset();
}

NodeAddress RedisCluster::address(int node) const { return {kLoopback, nodes_[node].port}; }

std::vector<NodeAddress> RedisCluster::addresses() const {
  std::vector<NodeAddress> out;
  for (int i = 0; i < node_count(); ++i) out.push_back(address(i));
  return out;
}

NodeAddress RedisCluster::tls_address(int node) const { return {kLoopback, nodes_[node].tls_port}; }

std::vector<NodeAddress> RedisCluster::tls_addresses() const {
  std::vector<NodeAddress> out;
  for (int i = 0; i < node_count(); ++i) out.push_back(tls_address(i));
  return out;
}

absl::Status RedisCluster::MakeCertificates() {
  if (::mkdir(tls_dir().c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", tls_dir()));
  }
  IT_RETURN_IF_ERROR(MakeTestCa(tls_dir()));
  IT_RETURN_IF_ERROR(MakeTestCertificate(tls_dir(), "node", "redis node"));
  return MakeTestCertificate(tls_dir(), "client", "slotplane test client");
}

absl::Status RedisCluster::PickPorts(int node) {
  absl::StatusOr<uint16_t> port = PickFreePort(/*with_cluster_bus=*/true);
  if (!port.ok()) return port.status();
  nodes_[node].port = *port;
  if (!options_.tls) return absl::OkStatus();
  absl::StatusOr<uint16_t> tls_port = PickFreePort(/*with_cluster_bus=*/false);
  if (!tls_port.ok()) return tls_port.status();
  nodes_[node].tls_port = *tls_port;
  return absl::OkStatus();
}

std::optional<int> RedisCluster::IndexOf(const NodeAddress& address) const {
  for (int i = 0; i < node_count(); ++i) {
    if (address.port == nodes_[i].port && (address.host == kLoopback || address.host.empty())) {
      return i;
    }
  }
  return std::nullopt;
}

bool RedisCluster::IsRunning(int node) {
  return nodes_[node].process != nullptr && nodes_[node].process->IsRunning();
}

absl::StatusOr<std::unique_ptr<TestClient>> RedisCluster::Connect(
    int node, const ClientOptions& options) const {
  ClientOptions with_auth = options;
  if (with_auth.password.empty()) with_auth.password = options_.password;
  return TestClient::Connect(kLoopback, nodes_[node].port, with_auth);
}

std::string RedisCluster::NodeLogTail(int node, size_t lines) const {
  const std::string& dir = nodes_[node].dir;
  return LastLines(
      absl::StrCat(ReadFileOrEmpty(dir + "/stdout.log"), ReadFileOrEmpty(dir + "/redis.log")),
      lines);
}

absl::Status RedisCluster::StartNodes(absl::Time deadline) {
  const int total = options_.masters * (1 + options_.replicas_per_master);
  nodes_.resize(total);
  std::vector<int> all;
  for (int i = 0; i < total; ++i) {
    nodes_[i].dir = dir_.File(absl::StrCat("node-", i));
    if (::mkdir(nodes_[i].dir.c_str(), 0755) != 0) {
      return absl::InternalError(absl::StrCat("mkdir ", nodes_[i].dir));
    }
    IT_RETURN_IF_ERROR(PickPorts(i));
    IT_RETURN_IF_ERROR(SpawnNode(i));
    all.push_back(i);
  }
  return WaitForNodesToAnswer(all, deadline, /*allow_new_port=*/true);
}

absl::Status RedisCluster::SpawnNode(int node) {
  Node& n = nodes_[node];
  std::vector<std::pair<std::string, std::string>> config = {
      {"port", absl::StrCat(n.port)},
      {"bind", kLoopback},
      {"cluster-enabled", "yes"},
      {"cluster-config-file", n.dir + "/nodes.conf"},
      {"cluster-node-timeout", absl::StrCat(absl::ToInt64Milliseconds(options_.node_timeout))},
      {"save", ""},
      {"appendonly", "no"},
      // Replicas sync at once, not after 5 s.
      {"repl-diskless-sync-delay", "0"},
      // The replication offset moves every second even without writes: until it does, Redis
      // reports a new replica as "loading" and leaves it out of CLUSTER SLOTS.
      {"repl-ping-replica-period", "1"},
      {"dir", n.dir},
      {"logfile", n.dir + "/redis.log"},
      {"daemonize", "no"},
  };
  if (!options_.password.empty()) {
    config.push_back({"requirepass", options_.password});
    config.push_back({"masterauth", options_.password});
  }
  if (options_.tls) {
    config.insert(config.end(), {{"tls-port", absl::StrCat(n.tls_port)},
                                 {"tls-cert-file", tls_file("node.pem")},
                                 {"tls-key-file", tls_file("node.key")},
                                 {"tls-ca-cert-file", tls_file("ca.pem")},
                                 {"tls-cluster", "yes"},
                                 {"tls-replication", "yes"}});
  }
  SpawnOptions spawn;
  spawn.argv = {server_path_};
  for (const auto& [name, value] : config) {
    spawn.argv.insert(spawn.argv.end(), {"--" + name, value});
  }
  spawn.output_path = n.dir + "/stdout.log";
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(spawn);
  if (!process.ok()) return process.status();
  n.process = *std::move(process);
  return absl::OkStatus();
}

absl::Status RedisCluster::WaitForNodesToAnswer(const std::vector<int>& nodes, absl::Time deadline,
                                                bool allow_new_port) {
  std::set<int> pending(nodes.begin(), nodes.end());
  std::map<int, int> port_retries;
  while (!pending.empty()) {
    for (auto it = pending.begin(); it != pending.end();) {
      const int i = *it;
      if (!nodes_[i].process->IsRunning()) {
        // Another process took the port between PickFreePort() and bind(): try another one.
        const bool port_taken = absl::StrContains(NodeLogTail(i), "Address already in use");
        if (!port_taken || !allow_new_port || ++port_retries[i] > kMaxPortRetriesPerNode) {
          return absl::FailedPreconditionError(absl::StrCat(
              "redis-server node ", i, " (port ", nodes_[i].port, ") exited with ",
              DescribeWaitStatus(*nodes_[i].process->wait_status()), "; log:\n", NodeLogTail(i)));
        }
        IT_RETURN_IF_ERROR(PickPorts(i));
        ::unlink((nodes_[i].dir + "/stdout.log").c_str());  // forget the failed attempt
        ::unlink((nodes_[i].dir + "/redis.log").c_str());
        IT_RETURN_IF_ERROR(SpawnNode(i));
        ++it;
        continue;
      }
      absl::StatusOr<std::unique_ptr<TestClient>> client = Connect(i, ProbeOptions(password()));
      if (client.ok() && (*client)->Command({"PING"}) == Reply::Status("PONG")) {
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (pending.empty()) break;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("redis-server node ", *pending.begin(),
                                                      " does not answer PING; log:\n",
                                                      NodeLogTail(*pending.begin())));
    }
    absl::SleepFor(kPollInterval);
  }
  return absl::OkStatus();
}

absl::Status RedisCluster::CreateCluster(absl::Time deadline) {
  std::vector<std::string> argv = {"redis-cli"};
  if (!password().empty()) argv.insert(argv.end(), {"-a", password(), "--no-auth-warning"});
  argv.insert(argv.end(), {"--cluster", "create"});
  for (int i = 0; i < node_count(); ++i) argv.push_back(address(i).ToString());
  argv.insert(argv.end(),
              {"--cluster-replicas", absl::StrCat(options_.replicas_per_master), "--cluster-yes"});
  absl::StatusOr<CommandResult> result = RunCommand(argv, dir_.path(), deadline - absl::Now());
  if (!result.ok()) return result.status();
  if (!result->Succeeded() || !absl::StrContains(result->output, "All 16384 slots covered")) {
    return absl::InternalError(absl::StrCat("redis-cli --cluster create failed (",
                                            DescribeWaitStatus(result->wait_status), "):\n",
                                            LastLines(result->output, 40)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> RedisCluster::ClusterSlots() {
  std::string errors;
  for (int i = 0; i < node_count(); ++i) {
    if (!IsRunning(i)) continue;
    absl::StatusOr<std::unique_ptr<TestClient>> client = Connect(i, ProbeOptions(password()));
    if (!client.ok()) {
      absl::StrAppend(&errors, " ", client.status().message(), ";");
      continue;
    }
    Reply slots = (*client)->Command({"CLUSTER", "SLOTS"});
    if (slots.type == Reply::Type::kArray) return slots;
    absl::StrAppend(&errors, " node ", i, ": ", slots.DebugString(), ";");
  }
  return absl::UnavailableError(absl::StrCat("no running node answered CLUSTER SLOTS:", errors));
}

absl::StatusOr<std::vector<int>> RedisCluster::SlotOwners() {
  absl::StatusOr<Reply> slots = ClusterSlots();
  if (!slots.ok()) return slots.status();
  std::vector<int> owners(kSlotCount, -1);
  for (const Reply& range : slots->elements) {
    if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) {
      return absl::UnavailableError(absl::StrCat("bad CLUSTER SLOTS entry ", range.DebugString()));
    }
    const Reply& master = range.elements[2];
    const std::optional<int> owner =
        IndexOf({master.elements[0].str, static_cast<uint16_t>(master.elements[1].integer)});
    if (!owner.has_value()) {
      return absl::InternalError(
          absl::StrCat("unknown node in CLUSTER SLOTS: ", master.DebugString()));
    }
    for (long long slot = range.elements[0].integer;
         slot <= range.elements[1].integer && slot < kSlotCount; ++slot) {
      owners[slot] = *owner;
    }
  }
  return owners;
}

absl::StatusOr<int> RedisCluster::SlotOwner(uint16_t slot) {
  absl::StatusOr<std::vector<int>> owners = SlotOwners();
  if (!owners.ok()) return owners.status();
  if ((*owners)[slot] < 0) return absl::NotFoundError(absl::StrCat("slot ", slot, " uncovered"));
  return (*owners)[slot];
}

absl::StatusOr<std::vector<int>> RedisCluster::Masters() {
  absl::StatusOr<std::vector<int>> owners = SlotOwners();
  if (!owners.ok()) return owners.status();
  std::vector<int> masters;
  for (int owner : *owners) {
    if (owner >= 0 && std::find(masters.begin(), masters.end(), owner) == masters.end()) {
      masters.push_back(owner);
    }
  }
  return masters;
}

absl::StatusOr<std::vector<int>> RedisCluster::ReplicasOf(int master) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = Connect(master, ProbeOptions(password()));
  if (!client.ok()) return client.status();
  absl::StatusOr<std::map<std::string, std::string>> info =
      InfoCommand(**client, {"INFO", "replication"});
  if (!info.ok()) return info.status();
  std::vector<int> replicas;
  for (const auto& [name, value] : *info) {
    if (!IsReplicaField(name)) continue;
    for (absl::string_view field : absl::StrSplit(value, ',')) {
      int port = 0;
      if (absl::ConsumePrefix(&field, "port=") && absl::SimpleAtoi(field, &port)) {
        const std::optional<int> index = IndexOf({kLoopback, static_cast<uint16_t>(port)});
        if (index.has_value() && IsRunning(*index)) replicas.push_back(*index);
      }
    }
  }
  return replicas;
}

absl::StatusOr<std::vector<Reply>> RedisCluster::PipelineOnOwners(
    const std::vector<std::vector<std::string>>& commands) {
  absl::StatusOr<std::vector<int>> owners = SlotOwners();
  if (!owners.ok()) return owners.status();
  std::map<int, std::vector<size_t>> by_owner;  // owner -> indexes into `commands`
  for (size_t i = 0; i < commands.size(); ++i) {
    if (commands[i].size() < 2) return absl::InvalidArgumentError("a command without a key");
    by_owner[(*owners)[KeyHashSlot(commands[i][1])]].push_back(i);
  }
  std::vector<Reply> replies(commands.size());
  for (const auto& [owner, indexes] : by_owner) {
    if (owner < 0) return absl::UnavailableError("a key in an uncovered slot");
    absl::StatusOr<std::unique_ptr<TestClient>> client = Connect(owner);
    if (!client.ok()) return client.status();
    for (size_t i : indexes) (*client)->Append(commands[i]);
    for (size_t i : indexes) replies[i] = (*client)->GetReply();
  }
  return replies;
}

absl::Status RedisCluster::WaitForReplicasInSync(int master, absl::Duration timeout) {
  // The target is the master's offset when the wait starts: everything written before the call.
  // The master's offset keeps moving on its own (a PING to the replicas every 10 s), so chasing
  // its live value can stay one PING behind on a loaded machine.
  int64_t target = -1;
  return WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::unique_ptr<TestClient>> client =
            Connect(master, ProbeOptions(password()));
        if (!client.ok()) return client.status();
        absl::StatusOr<std::map<std::string, std::string>> info =
            InfoCommand(**client, {"INFO", "replication"});
        if (!info.ok()) return info.status();
        if (target < 0 && !absl::SimpleAtoi((*info)["master_repl_offset"], &target)) {
          return absl::UnavailableError("INFO replication has no master_repl_offset");
        }
        int replicas = 0;
        for (const auto& [name, value] : *info) {
          if (!IsReplicaField(name)) continue;
          ++replicas;
          int64_t offset = -1;
          for (absl::string_view field : absl::StrSplit(value, ',')) {
            if (absl::ConsumePrefix(&field, "offset=")) absl::SimpleAtoi(field, &offset);
          }
          if (offset < target) {
            return absl::UnavailableError(absl::StrCat("master node ", master, " wrote up to ",
                                                       target, " but ", name, ":", value));
          }
        }
        if (replicas == 0) {
          return absl::UnavailableError(absl::StrCat("master node ", master, " has no replica"));
        }
        return absl::OkStatus();
      },
      timeout, kPollInterval);
}

absl::Status RedisCluster::KillNode(int node) {
  if (!IsRunning(node)) {
    return absl::FailedPreconditionError(absl::StrCat("node ", node, " is not running"));
  }
  nodes_[node].process->Kill();
  return absl::OkStatus();
}

absl::Status RedisCluster::RestartNode(int node) {
  if (IsRunning(node)) {
    return absl::FailedPreconditionError(absl::StrCat("node ", node, " is still running"));
  }
  IT_RETURN_IF_ERROR(SpawnNode(node));
  return WaitForNodesToAnswer({node}, absl::Now() + options_.start_timeout,
                              /*allow_new_port=*/false);
}

absl::StatusOr<std::vector<ShardInfo>> RedisCluster::Shards(int node) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = Connect(node, ProbeOptions(password()));
  if (!client.ok()) return client.status();
  return ParseClusterShards((*client)->Command({"CLUSTER", "SHARDS"}));
}

absl::Status RedisCluster::CheckNodeStable(int node, std::string* canonical_shards) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = Connect(node, ProbeOptions(password()));
  if (!client.ok()) return client.status();
  absl::StatusOr<std::map<std::string, std::string>> info =
      InfoCommand(**client, {"CLUSTER", "INFO"});
  if (!info.ok()) return info.status();
  if ((*info)["cluster_state"] != "ok" || (*info)["cluster_slots_ok"] != absl::StrCat(kSlotCount) ||
      (*info)["cluster_known_nodes"] != absl::StrCat(node_count())) {
    return absl::UnavailableError(absl::StrCat(
        "node ", node, ": cluster_state:", (*info)["cluster_state"], " cluster_slots_ok:",
        (*info)["cluster_slots_ok"], " cluster_known_nodes:", (*info)["cluster_known_nodes"]));
  }
  absl::StatusOr<std::vector<ShardInfo>> shards =
      ParseClusterShards((*client)->Command({"CLUSTER", "SHARDS"}));
  if (!shards.ok()) return shards.status();
  for (const ShardInfo& shard : *shards) {
    for (const ShardNodeInfo& seen : shard.nodes) {
      const std::optional<int> index = IndexOf(seen.address);
      if (!index.has_value()) {
        return absl::UnavailableError(
            absl::StrCat("node ", node, " knows a stranger: ", seen.address.ToString()));
      }
      const char* expected = IsRunning(*index) ? "online" : "fail";
      if (seen.health != expected) {
        return absl::UnavailableError(absl::StrCat("node ", node, " sees node ", *index, " as ",
                                                   seen.health, ", not ", expected));
      }
    }
  }
  *canonical_shards = CanonicalShards(*shards);
  absl::StatusOr<std::map<std::string, std::string>> replication =
      InfoCommand(**client, {"INFO", "replication"});
  if (!replication.ok()) return replication.status();
  if ((*replication)["role"] == "slave" && (*replication)["master_link_status"] != "up") {
    return absl::UnavailableError(absl::StrCat(
        "replica node ", node, ": master_link_status:", (*replication)["master_link_status"]));
  }
  return absl::OkStatus();
}

absl::Status RedisCluster::CheckStable() {
  std::string reference;
  int reference_node = -1;
  for (int i = 0; i < node_count(); ++i) {
    if (!IsRunning(i)) continue;
    std::string shards;
    IT_RETURN_IF_ERROR(CheckNodeStable(i, &shards));
    if (reference_node < 0) {
      reference = std::move(shards);
      reference_node = i;
    } else if (shards != reference) {
      return absl::UnavailableError(absl::StrCat("node ", i, " sees shards\n", shards,
                                                 "\nwhile node ", reference_node, " sees\n",
                                                 reference));
    }
  }
  if (reference_node < 0) return absl::UnavailableError("no node is running");
  return absl::OkStatus();
}

absl::Status RedisCluster::WaitUntilStable(absl::Duration timeout) {
  return WaitForOk([this] { return CheckStable(); }, timeout, kStablePollInterval);
}

absl::Status RedisCluster::WaitForFailover(uint16_t slot, int old_owner, absl::Duration timeout) {
  return WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<int> owner = SlotOwner(slot);
        if (!owner.ok()) return owner.status();
        if (*owner == old_owner || !IsRunning(*owner)) {
          return absl::UnavailableError(absl::StrCat("slot ", slot, " still owned by node ", *owner,
                                                     IsRunning(*owner) ? "" : " (not running)"));
        }
        return CheckStable();
      },
      timeout, kStablePollInterval);
}

absl::Status SlotMigration::SetSlot(int node, const std::vector<std::string>& args) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = cluster_.Connect(node);
  if (!client.ok()) return client.status();
  std::vector<std::string> argv = {"CLUSTER", "SETSLOT", absl::StrCat(slot_)};
  argv.insert(argv.end(), args.begin(), args.end());
  const Reply reply = (*client)->Command(argv);
  if (reply != Reply::Status("OK")) {
    return absl::InternalError(
        absl::StrCat("node ", node, ": ", absl::StrJoin(argv, " "), " -> ", reply.DebugString()));
  }
  return absl::OkStatus();
}

absl::Status SlotMigration::Begin() {
  absl::StatusOr<std::unique_ptr<TestClient>> source = cluster_.Connect(source_);
  if (!source.ok()) return source.status();
  absl::StatusOr<std::unique_ptr<TestClient>> target = cluster_.Connect(target_);
  if (!target.ok()) return target.status();
  absl::StatusOr<std::string> source_id = NodeId(**source);
  if (!source_id.ok()) return source_id.status();
  absl::StatusOr<std::string> target_id = NodeId(**target);
  if (!target_id.ok()) return target_id.status();
  target_id_ = *target_id;
  // Importing first, as redis-cli does: a redirect from the source then always finds the target
  // ready to accept ASKING.
  IT_RETURN_IF_ERROR(SetSlot(target_, {"IMPORTING", *source_id}));
  return SetSlot(source_, {"MIGRATING", target_id_});
}

absl::StatusOr<int> SlotMigration::MoveKeys(int max_keys) {
  absl::StatusOr<std::unique_ptr<TestClient>> source = cluster_.Connect(source_);
  if (!source.ok()) return source.status();
  const Reply keys =
      (*source)->Command({"CLUSTER", "GETKEYSINSLOT", absl::StrCat(slot_), absl::StrCat(max_keys)});
  if (keys.type != Reply::Type::kArray) {
    return absl::InternalError(absl::StrCat("CLUSTER GETKEYSINSLOT: ", keys.DebugString()));
  }
  if (keys.elements.empty()) return 0;
  std::vector<std::string> migrate = {
      "MIGRATE", kLoopback, absl::StrCat(cluster_.port(target_)),
      "",        "0",       absl::StrCat(absl::ToInt64Milliseconds(kMigrateTimeout))};
  if (!cluster_.password().empty()) migrate.insert(migrate.end(), {"AUTH", cluster_.password()});
  migrate.push_back("KEYS");
  for (const Reply& key : keys.elements) migrate.push_back(key.str);
  const Reply reply = (*source)->Command(migrate);
  // NOKEY: every key of the batch was deleted meanwhile, which is fine.
  if (reply != Reply::Status("OK") && reply != Reply::Status("NOKEY")) {
    return absl::InternalError(
        absl::StrCat("MIGRATE of ", keys.elements.size(), " keys: ", reply.DebugString()));
  }
  return static_cast<int>(keys.elements.size());
}

absl::Status SlotMigration::Finish(absl::Duration timeout) {
  absl::StatusOr<std::vector<int>> masters = cluster_.Masters();
  if (!masters.ok()) return masters.status();
  // The target first so that it owns the slot before the source starts answering MOVED.
  IT_RETURN_IF_ERROR(SetSlot(target_, {"NODE", target_id_}));
  IT_RETURN_IF_ERROR(SetSlot(source_, {"NODE", target_id_}));
  for (int master : *masters) {
    if (master != source_ && master != target_) {
      IT_RETURN_IF_ERROR(SetSlot(master, {"NODE", target_id_}));
    }
  }
  return WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<int> owner = cluster_.SlotOwner(slot_);
        if (!owner.ok()) return owner.status();
        if (*owner != target_) {
          return absl::UnavailableError(absl::StrCat("slot ", slot_, " owned by ", *owner));
        }
        return cluster_.CheckStable();
      },
      timeout, kStablePollInterval);
}

absl::Status SlotMigration::Run(int batch) {
  IT_RETURN_IF_ERROR(Begin());
  constexpr int kMaxBatches = 100000;
  for (int i = 0; i < kMaxBatches; ++i) {
    absl::StatusOr<int> moved = MoveKeys(batch);
    if (!moved.ok()) return moved.status();
    if (*moved == 0) return Finish();
  }
  return absl::InternalError(
      absl::StrCat("slot ", slot_, " still has keys after ", kMaxBatches, " batches"));
}

absl::StatusOr<int> AskKeySlot(TestClient& client, const std::string& key) {
  const Reply reply = client.Command({"CLUSTER", "KEYSLOT", key});
  if (reply.type != Reply::Type::kInteger) {
    return absl::InternalError(absl::StrCat("CLUSTER KEYSLOT: ", reply.DebugString()));
  }
  return static_cast<int>(reply.integer);
}

std::string KeyInSlot(uint16_t slot, const std::string& prefix) {
  // Hash tags that land in each slot, found once: decimal numbers cover all 16384 slots well
  // before the bound.
  static const std::vector<std::string>* const tags = [] {
    auto* table = new std::vector<std::string>(kSlotCount);
    int missing = kSlotCount;
    for (int n = 0; missing > 0 && n < 10'000'000; ++n) {
      std::string tag = absl::StrCat(n);
      std::string& entry = (*table)[KeyHashSlot(tag)];
      if (entry.empty()) {
        entry = std::move(tag);
        --missing;
      }
    }
    return table;
  }();
  return absl::StrCat(prefix, "{", (*tags)[slot], "}");
}

}  // namespace slotplane::integration
