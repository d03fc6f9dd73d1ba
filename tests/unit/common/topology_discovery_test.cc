#include "common/topology_discovery.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/node_connection_pool.h"
#include "gtest/gtest.h"

namespace slotplane {
namespace {

// --- RESP builders ------------------------------------------------------------------------------

std::string Bulk(const std::string& s) { return absl::StrCat("$", s.size(), "\r\n", s, "\r\n"); }
std::string Int(long long v) { return absl::StrCat(":", v, "\r\n"); }
std::string Array(const std::vector<std::string>& items) {
  return absl::StrCat("*", items.size(), "\r\n", absl::StrJoin(items, ""));
}
std::string Ints(const std::vector<int>& values) {
  std::vector<std::string> items;
  for (int v : values) items.push_back(Int(v));
  return Array(items);
}

// One node of a CLUSTER SHARDS entry, with the fields and order of Redis 7.0.
std::string ShardsNode(const std::string& id, int port, const std::string& ip,
                       const std::string& role, const std::string& health, int offset = 28) {
  return Array({Bulk("id"), Bulk(id), Bulk("port"), Int(port), Bulk("ip"), Bulk(ip),
                Bulk("endpoint"), Bulk(ip), Bulk("role"), Bulk(role), Bulk("replication-offset"),
                Int(offset), Bulk("health"), Bulk(health)});
}

std::string ShardsEntry(const std::vector<int>& slot_bounds,
                        const std::vector<std::string>& nodes) {
  return Array({Bulk("slots"), Ints(slot_bounds), Bulk("nodes"), Array(nodes)});
}

// A CLUSTER SLOTS node: [ip, port, id, metadata] as Redis 7.0 sends it.
std::string SlotsNode(const std::string& ip, int port, const std::string& id) {
  return Array({Bulk(ip), Int(port), Bulk(id), Array({})});
}

const std::string kIdA = "62249bc1f8ebfde1a0efda430e5b892ffd2e97dc";  // 30001
const std::string kIdB = "635bdffacef3e4ee0ebc1947e4ae04fa40fa49fd";  // 30002
const std::string kIdC = "8299b4c0f74cb3100f88f131e947ec7fbec97171";  // 30003
const std::string kIdD = "3930bb519268a9cdc9a518d94fb8d6cf52c6d4c2";  // 30004
const std::string kIdE = "ba065f4629dae47324149f8edb10420c8ccbfb59";  // 30005
const std::string kIdF = "8fa34a0b58e5e2d2ce7a761966c73ad969b41c5a";  // 30006

// CLUSTER SHARDS of a healthy 3 masters + 3 replicas cluster right after creation (replicas still
// "loading").
std::string HealthyShardsReply() {
  return Array({
      ShardsEntry({5461, 10922}, {ShardsNode(kIdB, 30002, "127.0.0.1", "master", "online"),
                                  ShardsNode(kIdF, 30006, "127.0.0.1", "replica", "loading")}),
      ShardsEntry({10923, 16383}, {ShardsNode(kIdC, 30003, "127.0.0.1", "master", "online"),
                                   ShardsNode(kIdD, 30004, "127.0.0.1", "replica", "loading")}),
      ShardsEntry({0, 5460}, {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online"),
                              ShardsNode(kIdE, 30005, "127.0.0.1", "replica", "loading")}),
  });
}

// Byte for byte what Redis 7.0.15 sent after master 30003 was killed and replica 30004 took over:
// the failed ex-master is listed as a shard of its own, without slots, role "master", health
// "fail" (not "failed" as the documentation says).
std::string ShardsReplyAfterFailover() {
  return Array({
      ShardsEntry({5461, 10922}, {ShardsNode(kIdB, 30002, "127.0.0.1", "master", "online"),
                                  ShardsNode(kIdF, 30006, "127.0.0.1", "replica", "online")}),
      ShardsEntry({}, {ShardsNode(kIdC, 30003, "127.0.0.1", "master", "fail")}),
      ShardsEntry({0, 5460}, {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online", 42),
                              ShardsNode(kIdE, 30005, "127.0.0.1", "replica", "online")}),
      ShardsEntry({10923, 16383}, {ShardsNode(kIdD, 30004, "127.0.0.1", "master", "online")}),
  });
}

// --- Parsing RESP with hiredis's own reader -----------------------------------------------------

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

ReplyPtr Parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  void* reply = nullptr;
  const bool fed = redisReaderFeed(reader, resp.data(), resp.size()) == REDIS_OK;
  const bool got = fed && redisReaderGetReply(reader, &reply) == REDIS_OK;
  redisReaderFree(reader);
  EXPECT_TRUE(got && reply != nullptr) << "incomplete or invalid RESP";
  return ReplyPtr(static_cast<redisReply*>(reply));
}

absl::StatusOr<std::vector<Shard>> FromShards(const std::string& resp) {
  ReplyPtr reply = Parse(resp);
  return ShardsFromClusterShardsReply(reply.get());
}

absl::StatusOr<std::vector<Shard>> FromSlots(const std::string& resp) {
  ReplyPtr reply = Parse(resp);
  return ShardsFromClusterSlotsReply(reply.get());
}

void ExpectNode(const ClusterNode& node, const std::string& id, const std::string& host,
                uint16_t port, NodeRole role, NodeHealth health) {
  EXPECT_EQ(node.id, id);
  EXPECT_EQ(node.address.host, host);
  EXPECT_EQ(node.address.port, port);
  EXPECT_EQ(node.role, role) << id;
  EXPECT_EQ(node.health, health) << id;
}

void ExpectSlots(const Shard& shard, const std::vector<std::pair<int, int>>& ranges) {
  ASSERT_EQ(shard.slots.size(), ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_EQ(shard.slots[i].first, ranges[i].first);
    EXPECT_EQ(shard.slots[i].last, ranges[i].second);
  }
}

// --- CLUSTER SHARDS -----------------------------------------------------------------------------

TEST(ClusterShardsReplyTest, HealthyCluster) {
  absl::StatusOr<std::vector<Shard>> shards = FromShards(HealthyShardsReply());
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 3u);
  const Shard& first = (*shards)[0];
  ExpectSlots(first, {{5461, 10922}});
  ExpectNode(first.master, kIdB, "127.0.0.1", 30002, NodeRole::kMaster, NodeHealth::kOnline);
  ASSERT_EQ(first.replicas.size(), 1u);
  ExpectNode(first.replicas[0], kIdF, "127.0.0.1", 30006, NodeRole::kReplica, NodeHealth::kLoading);
  ExpectSlots((*shards)[2], {{0, 5460}});
  EXPECT_EQ((*shards)[2].master.id, kIdA);
}

TEST(ClusterShardsReplyTest, FailedExMasterWithoutSlotsIsLeftOut) {
  absl::StatusOr<std::vector<Shard>> shards = FromShards(ShardsReplyAfterFailover());
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 3u);
  for (const Shard& shard : *shards) EXPECT_NE(shard.master.id, kIdC);
  const Shard& promoted = (*shards)[2];
  ExpectSlots(promoted, {{10923, 16383}});
  ExpectNode(promoted.master, kIdD, "127.0.0.1", 30004, NodeRole::kMaster, NodeHealth::kOnline);
  EXPECT_TRUE(promoted.replicas.empty());
}

TEST(ClusterShardsReplyTest, FailedExMasterInTheSameShardIsNotChosen) {
  // Servers that group nodes by shard id list the failed ex-master, still flagged master, in the
  // shard of the replica that replaced it, and may list it first.
  const std::string reply = Array(
      {ShardsEntry({10923, 16383}, {ShardsNode(kIdC, 30003, "127.0.0.1", "master", "fail"),
                                    ShardsNode(kIdD, 30004, "127.0.0.1", "master", "online"),
                                    ShardsNode(kIdE, 30005, "127.0.0.1", "replica", "online")})});
  absl::StatusOr<std::vector<Shard>> shards = FromShards(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 1u);
  const Shard& shard = (*shards)[0];
  ExpectNode(shard.master, kIdD, "127.0.0.1", 30004, NodeRole::kMaster, NodeHealth::kOnline);
  ASSERT_EQ(shard.replicas.size(), 1u);
  EXPECT_EQ(shard.replicas[0].id, kIdE);
}

TEST(ClusterShardsReplyTest, FailedExMasterDemotedToReplicaStaysAFailedReplica) {
  const std::string reply =
      Array({ShardsEntry({0, 5460}, {ShardsNode(kIdE, 30005, "127.0.0.1", "master", "online"),
                                     ShardsNode(kIdA, 30001, "127.0.0.1", "replica", "failed")})});
  absl::StatusOr<std::vector<Shard>> shards = FromShards(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ((*shards)[0].replicas.size(), 1u);
  ExpectNode((*shards)[0].replicas[0], kIdA, "127.0.0.1", 30001, NodeRole::kReplica,
             NodeHealth::kFailed);
}

TEST(ClusterShardsReplyTest, FailedMasterStillOwningSlotsIsKept) {
  // Before a replica takes over, the failed master still owns its slots; the map must say so.
  const std::string reply =
      Array({ShardsEntry({0, 16383}, {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "fail"),
                                      ShardsNode(kIdB, 30002, "127.0.0.1", "replica", "online")})});
  absl::StatusOr<std::vector<Shard>> shards = FromShards(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 1u);
  ExpectNode((*shards)[0].master, kIdA, "127.0.0.1", 30001, NodeRole::kMaster, NodeHealth::kFailed);
}

TEST(ClusterShardsReplyTest, MasterWithoutSlotsIsKept) {
  const std::string reply = Array({
      ShardsEntry({0, 16383}, {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online")}),
      ShardsEntry({}, {ShardsNode(kIdB, 30002, "127.0.0.1", "master", "online"),
                       ShardsNode(kIdC, 30003, "127.0.0.1", "replica", "online")}),
  });
  absl::StatusOr<std::vector<Shard>> shards = FromShards(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 2u);
  EXPECT_TRUE((*shards)[1].slots.empty());
  EXPECT_EQ((*shards)[1].master.id, kIdB);
  EXPECT_EQ((*shards)[1].replicas.size(), 1u);
}

TEST(ClusterShardsReplyTest, SeveralRangesPerShard) {
  const std::string reply =
      Array({ShardsEntry({0, 99, 200, 299, 16383, 16383},
                         {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online")})});
  absl::StatusOr<std::vector<Shard>> shards = FromShards(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ExpectSlots((*shards)[0], {{0, 99}, {200, 299}, {16383, 16383}});
}

TEST(ClusterShardsReplyTest, UnknownAddressGivesEmptyHost) {
  const std::string reply =
      Array({ShardsEntry({0, 16383}, {ShardsNode(kIdA, 30001, "", "master", "online"),
                                      ShardsNode(kIdB, 30002, "?", "replica", "online")})});
  absl::StatusOr<std::vector<Shard>> shards = FromShards(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  EXPECT_EQ((*shards)[0].master.address.host, "");
  EXPECT_EQ((*shards)[0].master.address.port, 30001);
  EXPECT_EQ((*shards)[0].replicas[0].address.host, "");
}

TEST(ClusterShardsReplyTest, EndpointIsUsedWhenIpIsMissing) {
  const std::string node = Array({Bulk("id"), Bulk(kIdA), Bulk("port"), Int(7000), Bulk("endpoint"),
                                  Bulk("redis-0.example"), Bulk("hostname"), Bulk("redis-0"),
                                  Bulk("role"), Bulk("master"), Bulk("health"), Bulk("online")});
  absl::StatusOr<std::vector<Shard>> shards = FromShards(Array({ShardsEntry({0, 16383}, {node})}));
  ASSERT_TRUE(shards.ok()) << shards.status();
  EXPECT_EQ((*shards)[0].master.address, (NodeAddress{"redis-0.example", 7000}));
}

TEST(ClusterShardsReplyTest, UnknownHealthCountsAsFailed) {
  const std::string reply = Array(
      {ShardsEntry({0, 16383}, {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online"),
                                ShardsNode(kIdB, 30002, "127.0.0.1", "replica", "confused")})});
  absl::StatusOr<std::vector<Shard>> shards = FromShards(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  EXPECT_EQ((*shards)[0].replicas[0].health, NodeHealth::kFailed);
}

TEST(ClusterShardsReplyTest, MalformedRepliesAreRejectedWithThePlace) {
  const std::string master = ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online");
  const std::string no_port = Array({Bulk("id"), Bulk(kIdB), Bulk("tls-port"), Int(30002),
                                     Bulk("ip"), Bulk("127.0.0.1"), Bulk("role"), Bulk("master")});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Int(1), "CLUSTER SHARDS reply: not an array"},
      {Array({ShardsEntry({0, 16384}, {master})}),
       "CLUSTER SHARDS reply: shard 0: slot 16384 is outside 0-16383"},
      {Array({ShardsEntry({10, 5}, {master})}),
       "CLUSTER SHARDS reply: shard 0: slot range 10-5 is inverted"},
      {Array({ShardsEntry({0}, {master})}),
       "CLUSTER SHARDS reply: shard 0: \"slots\" has an odd number of bounds"},
      {Array({Array({Bulk("slots"), Ints({0, 1})})}),
       "CLUSTER SHARDS reply: shard 0: missing \"nodes\""},
      {Array({ShardsEntry({0, 1}, {master}), ShardsEntry({2, 3}, {no_port})}),
       "CLUSTER SHARDS reply: shard 1: node 0: node " + kIdB +
           " has no plaintext \"port\" (TLS-only cluster: set tls-cluster yes on the proxy)"},
      {Array({ShardsEntry({0, 1}, {ShardsNode(kIdA, 30001, "127.0.0.1", "leader", "online")})}),
       "CLUSTER SHARDS reply: shard 0: node 0: node " + kIdA + ": unknown role \"leader\""},
      {Array({ShardsEntry({0, 1}, {ShardsNode(kIdA, 0, "127.0.0.1", "master", "online")})}),
       "CLUSTER SHARDS reply: shard 0: node 0: node " + kIdA + ": port 0 is invalid"},
      {Array({ShardsEntry({0, 1}, {ShardsNode(kIdA, 30001, "127.0.0.1", "replica", "online")})}),
       "CLUSTER SHARDS reply: shard 0: shard owns slots from 0 but lists no master"},
  };
  for (const auto& [resp, message] : cases) {
    absl::StatusOr<std::vector<Shard>> shards = FromShards(resp);
    ASSERT_FALSE(shards.ok()) << message;
    EXPECT_EQ(shards.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(shards.status().message(), message);
  }
}

TEST(ClusterShardsReplyTest, TlsUsesTheTlsPort) {
  // Redis 7.0 with tls-port and `port 0`: only "tls-port" (a node with both lists both).
  const std::string node = Array({Bulk("id"), Bulk(kIdA), Bulk("port"), Int(30001),
                                  Bulk("tls-port"), Int(40001), Bulk("ip"), Bulk("127.0.0.1"),
                                  Bulk("role"), Bulk("master"), Bulk("health"), Bulk("online")});
  const std::string tls_only =
      Array({Bulk("id"), Bulk(kIdB), Bulk("tls-port"), Int(40002), Bulk("ip"), Bulk("127.0.0.1"),
             Bulk("role"), Bulk("master"), Bulk("health"), Bulk("online")});
  const std::string resp =
      Array({ShardsEntry({0, 8191}, {node}), ShardsEntry({8192, 16383}, {tls_only})});
  ReplyPtr reply = Parse(resp);
  absl::StatusOr<std::vector<Shard>> shards = ShardsFromClusterShardsReply(reply.get(), true);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 2u);
  EXPECT_EQ((*shards)[0].master.address.port, 40001);
  EXPECT_EQ((*shards)[1].master.address.port, 40002);
  absl::StatusOr<std::vector<Shard>> plain = ShardsFromClusterShardsReply(reply.get(), false);
  EXPECT_FALSE(plain.ok()) << "a TLS-only node has no plaintext port";
}

TEST(ClusterShardsReplyTest, NullReplyIsRejected) {
  EXPECT_FALSE(ShardsFromClusterShardsReply(nullptr).ok());
  EXPECT_FALSE(ShardsFromClusterSlotsReply(nullptr).ok());
}

// --- CLUSTER SLOTS ------------------------------------------------------------------------------

TEST(ClusterSlotsReplyTest, Redis7Reply) {
  // What Redis 7.0.15 sent for the cluster of HealthyShardsReply() once replicas had synced.
  const std::string reply = Array({
      Array({Int(0), Int(5460), SlotsNode("127.0.0.1", 30001, kIdA),
             SlotsNode("127.0.0.1", 30005, kIdE)}),
      Array({Int(5461), Int(10922), SlotsNode("127.0.0.1", 30002, kIdB),
             SlotsNode("127.0.0.1", 30006, kIdF)}),
      Array({Int(10923), Int(16383), SlotsNode("127.0.0.1", 30003, kIdC),
             SlotsNode("127.0.0.1", 30004, kIdD)}),
  });
  absl::StatusOr<std::vector<Shard>> shards = FromSlots(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 3u);
  ExpectSlots((*shards)[0], {{0, 5460}});
  ExpectNode((*shards)[0].master, kIdA, "127.0.0.1", 30001, NodeRole::kMaster, NodeHealth::kOnline);
  ASSERT_EQ((*shards)[0].replicas.size(), 1u);
  ExpectNode((*shards)[0].replicas[0], kIdE, "127.0.0.1", 30005, NodeRole::kReplica,
             NodeHealth::kOnline);
  ExpectSlots((*shards)[2], {{10923, 16383}});
}

TEST(ClusterSlotsReplyTest, RangesOfOneMasterFormOneShard) {
  const std::string reply = Array({
      Array(
          {Int(0), Int(99), SlotsNode("10.0.0.1", 7000, kIdA), SlotsNode("10.0.0.3", 7000, kIdC)}),
      Array({Int(100), Int(199), SlotsNode("10.0.0.2", 7000, kIdB)}),
      Array({Int(200), Int(299), SlotsNode("10.0.0.1", 7000, kIdA),
             SlotsNode("10.0.0.3", 7000, kIdC), SlotsNode("10.0.0.4", 7000, kIdD)}),
  });
  absl::StatusOr<std::vector<Shard>> shards = FromSlots(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 2u);
  ExpectSlots((*shards)[0], {{0, 99}, {200, 299}});
  ASSERT_EQ((*shards)[0].replicas.size(), 2u);  // kIdC once, kIdD added
  EXPECT_EQ((*shards)[0].replicas[0].id, kIdC);
  EXPECT_EQ((*shards)[0].replicas[1].id, kIdD);
  ExpectSlots((*shards)[1], {{100, 199}});
}

TEST(ClusterSlotsReplyTest, OldServersWithoutIdsGroupByAddress) {
  // Redis 3.0 sends [ip, port] only, and "" when the node does not know its own address.
  const std::string reply = Array({
      Array(
          {Int(0), Int(8000), Array({Bulk(""), Int(7000)}), Array({Bulk("10.0.0.2"), Int(7001)})}),
      Array({Int(8001), Int(8191), Array({Bulk("10.0.0.3"), Int(7002)})}),
      Array({Int(8192), Int(16383), Array({Bulk(""), Int(7000)})}),
  });
  absl::StatusOr<std::vector<Shard>> shards = FromSlots(reply);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 2u);
  ExpectSlots((*shards)[0], {{0, 8000}, {8192, 16383}});
  ExpectNode((*shards)[0].master, "", "", 7000, NodeRole::kMaster, NodeHealth::kOnline);
  ASSERT_EQ((*shards)[0].replicas.size(), 1u);
  EXPECT_EQ((*shards)[0].replicas[0].address, (NodeAddress{"10.0.0.2", 7001}));
}

TEST(ClusterSlotsReplyTest, MalformedRepliesAreRejectedWithThePlace) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Bulk("x"), "CLUSTER SLOTS reply: not an array"},
      {Array({Array({Int(0), Int(5)})}),
       "CLUSTER SLOTS reply: entry 0: entry is not [first, last, master, ...]"},
      {Array({Array({Int(0), Int(16384), SlotsNode("a", 1, kIdA)})}),
       "CLUSTER SLOTS reply: entry 0: slot 16384 is outside 0-16383"},
      {Array({Array({Int(0), Int(1), Array({Bulk("a")})})}),
       "CLUSTER SLOTS reply: entry 0: master: node is not [host, port, ...]"},
      {Array({Array({Int(0), Int(1), SlotsNode("a", 1, kIdA), Array({Int(3), Int(4)})})}),
       "CLUSTER SLOTS reply: entry 0: replica 0: node host is not a string"},
      {Array({Array({Int(0), Int(1), SlotsNode("a", 70000, kIdA)})}),
       "CLUSTER SLOTS reply: entry 0: master: port 70000 is invalid"},
  };
  for (const auto& [resp, message] : cases) {
    absl::StatusOr<std::vector<Shard>> shards = FromSlots(resp);
    ASSERT_FALSE(shards.ok()) << message;
    EXPECT_EQ(shards.status().message(), message);
  }
}

// --- DiscoverTopology against a scripted server -------------------------------------------------

// A single-threaded stand-in for a Redis node on 127.0.0.1 (kernel-chosen port). It answers each
// command with a canned reply chosen by its first two words (upper-cased), "-ERR unknown command"
// when none is set, and stays silent for commands mapped to kSilent. Commands are recorded.
class ScriptedServer {
 public:
  static constexpr const char* kSilent = "";

  explicit ScriptedServer(std::initializer_list<std::pair<const std::string, std::string>> replies)
      : replies_(replies) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    EXPECT_EQ(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  // Connections accepted so far.
  int accepted() const { return accepted_; }
  // Closes the connection being served (as a restarted node would) and returns once it is closed.
  void DropConnection() {
    drop_ = true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (drop_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_FALSE(drop_) << "the server did not drop its connection";
  }
  std::vector<std::string> commands() {
    std::lock_guard<std::mutex> lock(mu_);
    return commands_;
  }

 private:
  // Waits up to 20 ms for `fd` to be readable, so that the loop notices stop_.
  static bool Readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, 20) > 0;
  }

  void Run() {
    while (!stop_) {
      if (!Readable(listen_fd_)) continue;
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++accepted_;
      Serve(fd);
    }
  }

  void Serve(int fd) {
    redisReader* reader = redisReaderCreate();
    char buf[4096];
    while (!stop_ && !drop_) {
      if (!Readable(fd)) continue;
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      redisReaderFeed(reader, buf, n);
      void* request = nullptr;
      while (redisReaderGetReply(reader, &request) == REDIS_OK && request != nullptr) {
        const std::string reply = Answer(static_cast<redisReply*>(request));
        freeReplyObject(request);
        if (!reply.empty() && write(fd, reply.data(), reply.size()) < 0) break;
      }
    }
    redisReaderFree(reader);
    close(fd);
    drop_ = false;
  }

  std::string Answer(const redisReply* request) {
    std::vector<std::string> words;
    for (size_t i = 0; i < request->elements; ++i) {
      words.emplace_back(request->element[i]->str, request->element[i]->len);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      commands_.push_back(absl::StrJoin(words, " "));
    }
    std::string key = absl::AsciiStrToUpper(words.empty() ? "" : words[0]);
    if (words.size() > 1 && key != "AUTH") key += " " + absl::AsciiStrToUpper(words[1]);
    auto it = replies_.find(key);
    return it == replies_.end() ? "-ERR unknown command\r\n" : it->second;
  }

  const std::map<std::string, std::string> replies_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> drop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> commands_;
};

std::string ClusterInfo(int epoch) {
  return Bulk(absl::StrCat("cluster_state:ok\r\ncluster_slots_assigned:16384\r\n",
                           "cluster_current_epoch:", epoch, "\r\ncluster_my_epoch:1\r\n"));
}

// A port on 127.0.0.1 that nothing listens on: bound by the kernel, then released.
uint16_t ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), len);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

DiscoveryOptions Options(const std::vector<uint16_t>& ports,
                         const std::string& host = "127.0.0.1") {
  DiscoveryOptions options;
  for (uint16_t port : ports) options.seeds.push_back(NodeAddress{host, port});
  options.connect_timeout = absl::Milliseconds(500);
  options.io_timeout = absl::Milliseconds(500);
  return options;
}

TEST(DiscoverTopologyTest, NoSeedsIsAnInvalidArgument) {
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(DiscoveryOptions{});
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(DiscoverTopologyTest, UnreachableSeedsFailQuicklyNamingEachSeed) {
  const uint16_t first = ClosedPort();
  const uint16_t second = ClosedPort();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(Options({first, second}));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(elapsed, std::chrono::milliseconds(400));
  const std::string message(view.status().message());
  EXPECT_TRUE(absl::StrContains(message, absl::StrCat("127.0.0.1:", first, " (connect: ")))
      << message;
  EXPECT_TRUE(absl::StrContains(message, absl::StrCat("127.0.0.1:", second, " (connect: ")))
      << message;
}

TEST(DiscoverTopologyTest, UsesClusterShardsAndTheEpoch) {
  ScriptedServer server(
      {{"CLUSTER SHARDS", ShardsReplyAfterFailover()}, {"CLUSTER INFO", ClusterInfo(7)}});
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(Options({server.port()}));
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->epoch(), 7u);
  EXPECT_EQ((*view)->CoveredSlotCount(), kSlotCount);
  EXPECT_EQ((*view)->shards().size(), 3u);
  EXPECT_EQ((*view)->ShardForSlot(16383)->master.id, kIdD);
  EXPECT_EQ(server.commands(), (std::vector<std::string>{"CLUSTER SHARDS", "CLUSTER INFO"}));
}

TEST(DiscoverTopologyTest, FallsBackToClusterSlotsAndFillsInTheSeedHost) {
  // Redis 6 does not know CLUSTER SHARDS; a lone node may not know its own address either.
  const std::string slots = Array({
      Array({Int(0), Int(16383), Array({Bulk(""), Int(7000), Bulk(kIdA)})}),
  });
  ScriptedServer server(
      {{"CLUSTER SHARDS",
        "-ERR Unknown subcommand or wrong number of arguments for 'SHARDS'. Try CLUSTER HELP.\r\n"},
       {"CLUSTER SLOTS", slots},
       {"CLUSTER INFO", ClusterInfo(3)}});
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(Options({server.port()}, "localhost"));
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->shards()[0].master.address, (NodeAddress{"localhost", 7000}));
  EXPECT_EQ((*view)->epoch(), 3u);
  EXPECT_EQ(server.commands(),
            (std::vector<std::string>{"CLUSTER SHARDS", "CLUSTER SLOTS", "CLUSTER INFO"}));
}

TEST(DiscoverTopologyTest, AuthenticatesFirst) {
  ScriptedServer server({{"AUTH", "+OK\r\n"},
                         {"CLUSTER SHARDS", HealthyShardsReply()},
                         {"CLUSTER INFO", ClusterInfo(1)}});
  DiscoveryOptions options = Options({server.port()});
  options.auth_user = "proxy";
  options.auth_password = "s3cret";
  ASSERT_TRUE(DiscoverTopology(options).ok());
  options.auth_user.clear();
  ASSERT_TRUE(DiscoverTopology(options).ok());
  const std::vector<std::string> commands = server.commands();
  ASSERT_EQ(commands.size(), 6u);
  EXPECT_EQ(commands[0], "AUTH proxy s3cret");
  EXPECT_EQ(commands[3], "AUTH s3cret");
}

TEST(DiscoverTopologyTest, KeptConnectionsAreReusedAndReplacedWhenTheyFail) {
  ScriptedServer server({{"AUTH", "+OK\r\n"},
                         {"CLUSTER SHARDS", HealthyShardsReply()},
                         {"CLUSTER INFO", ClusterInfo(1)}});
  NodeConnectionPool pool;
  DiscoveryOptions options = Options({server.port()});
  options.auth_password = "s3cret";
  options.connections = &pool;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(DiscoverTopology(options).ok()) << i;
  }
  EXPECT_EQ(server.accepted(), 1) << "one connection for every discovery";
  EXPECT_EQ(pool.size(), 1u);
  std::vector<std::string> commands = server.commands();
  ASSERT_EQ(commands.size(), 7u);
  EXPECT_EQ(commands[0], "AUTH s3cret") << "authenticated once";
  EXPECT_EQ(commands[5], "CLUSTER SHARDS");

  server.DropConnection();  // the node restarted: the kept connection fails, a new one is made
  ASSERT_TRUE(DiscoverTopology(options).ok());
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_EQ(server.commands().back(), "CLUSTER INFO");
  EXPECT_EQ(server.commands()[7 + 0], "AUTH s3cret") << "the new connection authenticates";

  options.auth_password = "n3w";  // new credentials: the connections made with the old close
  ASSERT_TRUE(DiscoverTopology(options).ok());
  EXPECT_EQ(server.accepted(), 3);
  commands = server.commands();
  EXPECT_EQ(commands[commands.size() - 3], "AUTH n3w");

  pool.Retain({NodeAddress{"127.0.0.1", static_cast<uint16_t>(server.port() + 1)}});
  EXPECT_EQ(pool.size(), 0u) << "a node gone from the seeds keeps no connection";
}

TEST(DiscoverTopologyTest, AuthFailureIsReportedWithoutTheCredentials) {
  ScriptedServer server(
      {{"AUTH", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"}});
  DiscoveryOptions options = Options({server.port()});
  options.auth_password = "s3cret";
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(options);
  ASSERT_FALSE(view.ok());
  const std::string message(view.status().message());
  EXPECT_TRUE(absl::StrContains(message, "(AUTH: WRONGPASS invalid")) << message;
  EXPECT_FALSE(absl::StrContains(message, "s3cret")) << message;
}

TEST(DiscoverTopologyTest, SkipsSeedsThatCannotAnswerAndReportsEachReason) {
  ScriptedServer loading(
      {{"CLUSTER SHARDS", "-LOADING Redis is loading the dataset in memory\r\n"}});
  ScriptedServer empty(
      {{"CLUSTER SHARDS",
        Array({ShardsEntry({}, {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online")})})},
       {"CLUSTER INFO", ClusterInfo(0)}});
  ScriptedServer silent({{"CLUSTER SHARDS", ScriptedServer::kSilent}});
  const uint16_t closed = ClosedPort();
  const std::vector<uint16_t> failing = {closed, loading.port(), empty.port(), silent.port()};

  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(Options(failing));
  ASSERT_FALSE(view.ok());
  const std::string message(view.status().message());
  for (const std::string& expected :
       {absl::StrCat("127.0.0.1:", closed, " (connect: "),
        absl::StrCat("127.0.0.1:", loading.port(), " (CLUSTER SHARDS: LOADING Redis is loading"),
        absl::StrCat("127.0.0.1:", empty.port(), " (no slot is assigned to any node)"),
        absl::StrCat("127.0.0.1:", silent.port(), " (CLUSTER SHARDS: ")}) {
    EXPECT_TRUE(absl::StrContains(message, expected))
        << "missing \"" << expected << "\" in " << message;
  }

  ScriptedServer good({{"CLUSTER SHARDS", HealthyShardsReply()}, {"CLUSTER INFO", ClusterInfo(9)}});
  std::vector<uint16_t> ports = failing;
  ports.push_back(good.port());
  view = DiscoverTopology(Options(ports));
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view)->epoch(), 9u);
}

TEST(DiscoverTopologyTest, OtherClusterShardsErrorsDoNotFallBack) {
  ScriptedServer server({{"CLUSTER SHARDS", "-ERR This instance has cluster support disabled\r\n"},
                         {"CLUSTER SLOTS", HealthyShardsReply()}});
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(Options({server.port()}));
  ASSERT_FALSE(view.ok());
  EXPECT_TRUE(absl::StrContains(view.status().message(),
                                "(CLUSTER SHARDS: ERR This instance has cluster support disabled)"))
      << view.status();
  EXPECT_EQ(server.commands(), (std::vector<std::string>{"CLUSTER SHARDS"}));
}

TEST(DiscoverTopologyTest, InconsistentSlotMapIsRejected) {
  const std::string overlapping = Array({
      ShardsEntry({0, 16383}, {ShardsNode(kIdA, 30001, "127.0.0.1", "master", "online")}),
      ShardsEntry({100, 100}, {ShardsNode(kIdB, 30002, "127.0.0.1", "master", "online")}),
  });
  ScriptedServer server({{"CLUSTER SHARDS", overlapping}, {"CLUSTER INFO", ClusterInfo(1)}});
  absl::StatusOr<ClusterViewPtr> view = DiscoverTopology(Options({server.port()}));
  ASSERT_FALSE(view.ok());
  EXPECT_TRUE(
      absl::StrContains(view.status().message(),
                        "(inconsistent slot map: slot 100 is claimed by shard 0 and shard 1)"))
      << view.status();
}

}  // namespace
}  // namespace slotplane
