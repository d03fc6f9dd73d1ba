// Fault scenarios that move slots under the standard load, through the proxy, with
// redis-cli --cluster doing what an operator would:
//   3. reshard 4,000 slots from one master to another, then `--cluster rebalance`;
//   4. add a master and a replica, move every slot of an old master to the new one, then remove
//      the old master with `--cluster del-node`.
// Both must show 0 errors and 0 lost acknowledged writes.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/faults/scenario_support.h"
#include "tests/integration/child_process.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::faults {
namespace {

using integration::ChildProcess;
using integration::FindOnPath;
using integration::PickFreePort;
using integration::ProxyOptions;
using integration::ProxyProcess;
using integration::RedisCluster;
using integration::RunCommand;
using integration::SpawnOptions;
using integration::TestClient;
using integration::WaitForOk;

constexpr absl::Duration kStepTimeout = absl::Seconds(60);
constexpr absl::Duration kToolTimeout = absl::Seconds(300);
constexpr int64_t kAcks = 3000;

class ReshardFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(redis_cli_, FindOnPath("redis-cli"));
    ASSERT_OK_AND_ASSIGN(redis_server_, FindOnPath("redis-server"));
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start());
    ProxyOptions options;
    options.seeds = cluster_->addresses();
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(options));
  }

  std::string Seed() const { return absl::StrCat("127.0.0.1:", cluster_->port(0)); }

  // Runs `redis-cli --cluster args...`; fails unless it exits 0.
  absl::StatusOr<std::string> ClusterTool(std::vector<std::string> args) {
    std::vector<std::string> argv = {redis_cli_, "--cluster"};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<integration::CommandResult> result =
        RunCommand(argv, cluster_->work_dir(), kToolTimeout);
    if (!result.ok()) return result.status();
    if (!result->Succeeded()) {
      return absl::InternalError(absl::StrCat(
          "redis-cli --cluster ", args[0], " failed:\n", integration::LastLines(result->output, 8),
          "\nexit: ", integration::DescribeWaitStatus(result->wait_status)));
    }
    return result->output;
  }

  // Polls `redis-cli --cluster check` until every node agrees, every slot is covered and the
  // check lists every node of `known_ids` (a node still in its handshake has another id).
  absl::Status WaitForClusterCheck(const std::vector<std::string>& known_ids = {}) {
    return WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::string> out = ClusterTool({"check", Seed()});
          if (!out.ok()) return out.status();
          if (absl::StrContains(*out, "[WARNING]") || absl::StrContains(*out, "[ERR]")) {
            return absl::UnavailableError(*out);
          }
          for (const std::string& id : known_ids) {
            if (!absl::StrContains(*out, id)) return absl::UnavailableError("not known: " + id);
          }
          return absl::OkStatus();
        },
        kStepTimeout, absl::Milliseconds(250));
  }

  // Polls until the node on `port` reports cluster_state:ok (it knows every slot's owner; before
  // that it refuses MIGRATE with CLUSTERDOWN).
  absl::Status WaitForNodeOk(uint16_t port) {
    return WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::unique_ptr<TestClient>> client =
              TestClient::Connect("127.0.0.1", port);
          if (!client.ok()) return client.status();
          const integration::Reply reply = (*client)->Command({"CLUSTER", "INFO"});
          if (absl::StrContains(reply.str, "cluster_state:ok")) return absl::OkStatus();
          return absl::UnavailableError(absl::StrCat("node ", port, ": ", reply.DebugString()));
        },
        kStepTimeout);
  }

  absl::StatusOr<std::string> NodeId(uint16_t port) {
    absl::StatusOr<std::unique_ptr<TestClient>> client = TestClient::Connect("127.0.0.1", port);
    if (!client.ok()) return client.status();
    const integration::Reply reply = (*client)->Command({"CLUSTER", "MYID"});
    if (reply.type != integration::Reply::Type::kString) {
      return absl::UnavailableError(reply.DebugString());
    }
    return reply.str;
  }

  // A fresh cluster-mode redis-server on a free port, configured like the fixture's nodes.
  absl::StatusOr<uint16_t> SpawnExtraNode(const std::string& name) {
    absl::StatusOr<uint16_t> port = PickFreePort(/*with_cluster_bus=*/true);
    if (!port.ok()) return port.status();
    const std::string dir = absl::StrCat(cluster_->work_dir(), "/", name);
    IT_RETURN_IF_ERROR(
        RunCommand({"mkdir", "-p", dir}, cluster_->work_dir(), kStepTimeout).status());
    SpawnOptions spawn;
    spawn.argv = {redis_server_,
                  "--port",
                  absl::StrCat(*port),
                  "--bind",
                  "127.0.0.1",
                  "--cluster-enabled",
                  "yes",
                  "--cluster-config-file",
                  dir + "/nodes.conf",
                  "--cluster-node-timeout",
                  "2000",
                  "--save",
                  "",
                  "--appendonly",
                  "no",
                  "--repl-diskless-sync-delay",
                  "0",
                  "--repl-ping-replica-period",
                  "1",
                  "--dir",
                  dir,
                  "--logfile",
                  dir + "/redis.log"};
    absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(spawn);
    if (!process.ok()) return process.status();
    extra_nodes_.push_back(*std::move(process));
    IT_RETURN_IF_ERROR(WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::unique_ptr<TestClient>> client =
              TestClient::Connect("127.0.0.1", *port);
          if (!client.ok()) return client.status();
          return (*client)->Command({"PING"}) == integration::Reply::Status("PONG")
                     ? absl::OkStatus()
                     : absl::UnavailableError("no PONG");
        },
        kStepTimeout));
    return *port;
  }

  void ExpectClean(const LoadReport& report) {
    EXPECT_EQ(report.errors, 0) << report.first_error;
    EXPECT_EQ(report.lost_writes(), 0);
    EXPECT_EQ(report.checks.unexpected_increments, 0);
    EXPECT_EQ(report.checks.backwards_reads, 0);
    EXPECT_EQ(report.checks.unverified_keys, 0);
    EXPECT_GT(report.checks.acked_increments, 0);
  }

  std::string redis_cli_;
  std::string redis_server_;
  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
  std::vector<std::unique_ptr<ChildProcess>> extra_nodes_;
};

TEST_F(ReshardFaultTest, Reshard4000SlotsThenRebalance) {
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster_->Masters());
  ASSERT_GE(masters.size(), 2u);
  ASSERT_OK_AND_ASSIGN(const std::string from, NodeId(cluster_->port(masters[0])));
  ASSERT_OK_AND_ASSIGN(const std::string to, NodeId(cluster_->port(masters[1])));
  FaultLoad load(StandardLoad(*cluster_, proxy_->port(), "fault:reshard", absl::Seconds(600)));
  load.Start();
  ASSERT_TRUE(WaitForAcks(load, kAcks, kStepTimeout));
  ASSERT_OK(ClusterTool({"reshard", Seed(), "--cluster-from", from, "--cluster-to", to,
                         "--cluster-slots", "4000", "--cluster-yes"}));
  ASSERT_OK(WaitForClusterCheck());
  EXPECT_TRUE(WaitForAcks(load, kAcks, kStepTimeout));
  ASSERT_OK(ClusterTool({"rebalance", Seed()}));
  ASSERT_OK(WaitForClusterCheck());
  EXPECT_TRUE(WaitForAcks(load, kAcks, kStepTimeout));
  const LoadReport report = load.Finish();
  Publish("3-reshard-4000-rebalance", report);
  ExpectClean(report);
}

TEST_F(ReshardFaultTest, AddMasterAndReplicaMoveSlotsRemoveOldMaster) {
  ASSERT_OK_AND_ASSIGN(const int old_master, cluster_->SlotOwner(0));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster_->SlotOwners());
  const int old_slots = static_cast<int>(std::count(owners.begin(), owners.end(), old_master));
  ASSERT_OK_AND_ASSIGN(const std::string old_id, NodeId(cluster_->port(old_master)));
  FaultLoad load(StandardLoad(*cluster_, proxy_->port(), "fault:topology", absl::Seconds(600)));
  load.Start();
  ASSERT_TRUE(WaitForAcks(load, kAcks, kStepTimeout));

  ASSERT_OK_AND_ASSIGN(const uint16_t master_port, SpawnExtraNode("new-master"));
  ASSERT_OK_AND_ASSIGN(const uint16_t replica_port, SpawnExtraNode("new-replica"));
  ASSERT_OK_AND_ASSIGN(const std::string new_id, NodeId(master_port));
  ASSERT_OK_AND_ASSIGN(const std::string new_replica_id, NodeId(replica_port));
  ASSERT_OK(ClusterTool({"add-node", absl::StrCat("127.0.0.1:", master_port), Seed()}));
  ASSERT_OK(WaitForClusterCheck({new_id}));
  ASSERT_OK(ClusterTool({"add-node", absl::StrCat("127.0.0.1:", replica_port), Seed(),
                         "--cluster-slave", "--cluster-master-id", new_id}));
  ASSERT_OK(WaitForClusterCheck({new_id, new_replica_id}));
  ASSERT_OK(WaitForNodeOk(master_port));
  ASSERT_OK(WaitForNodeOk(replica_port));
  EXPECT_TRUE(WaitForAcks(load, kAcks, kStepTimeout));

  ASSERT_OK(ClusterTool({"reshard", Seed(), "--cluster-from", old_id, "--cluster-to", new_id,
                         "--cluster-slots", absl::StrCat(old_slots), "--cluster-yes"}));
  ASSERT_OK(WaitForClusterCheck());
  EXPECT_TRUE(WaitForAcks(load, kAcks, kStepTimeout));
  // The old master now owns nothing; del-node makes every node forget it and shuts it down.
  const std::string seed = absl::StrCat("127.0.0.1:", master_port);
  ASSERT_OK(ClusterTool({"del-node", seed, old_id}));
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::string> out = ClusterTool({"check", seed});
        if (!out.ok()) return out.status();
        if (absl::StrContains(*out, old_id.substr(0, 40)) || absl::StrContains(*out, "[ERR]")) {
          return absl::UnavailableError("old master still known");
        }
        return absl::OkStatus();
      },
      kStepTimeout, absl::Milliseconds(250)));
  EXPECT_TRUE(WaitForAcks(load, kAcks, kStepTimeout));
  const LoadReport report = load.Finish();
  Publish("4-add-move-remove-master", report);
  ExpectClean(report);
}

}  // namespace
}  // namespace slotplane::faults
