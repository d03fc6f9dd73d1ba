#include "dataplane/router/replica_selection.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/backend/backend_conn.h"
#include "dataplane/core/worker_stats.h"

namespace slotplane::dataplane {
namespace {

// Just enough of a worker for connections that are never used, or fail at once.
class FakeOwner : public BackendOwner {
 public:
  EventLoop& loop() override { return loop_; }
  RequestPool& pool() override { return pool_; }
  WorkerStats& stats() override { return stats_; }
  void ScheduleFlush(BackendConn*) override {}
  void OnBackendReply(BackendConn*, Request* request, std::string_view) override {
    pool_.Release(request);
  }
  void FailRequest(Request* request, const std::string&, FailKind) override {
    pool_.Release(request);
  }
  void OnBackendDown(BackendConn*) override {}

 private:
  EventLoop loop_;
  RequestPool pool_;
  WorkerStats stats_;
};

class ReplicaSelectionTest : public ::testing::Test {
 protected:
  // A connection that is up as far as selection knows (never connected, not in backoff).
  BackendConn* Up(const std::string& name) {
    conns_.push_back(std::make_unique<BackendConn>(&owner_, NodeAddress{"127.0.0.1", 1}, options_));
    names_[conns_.back().get()] = name;
    return conns_.back().get();
  }
  // A connection in reconnect backoff: its address cannot even be parsed, so the connect fails
  // at once.
  BackendConn* Down(const std::string& name) {
    conns_.push_back(
        std::make_unique<BackendConn>(&owner_, NodeAddress{"not an address", 1}, options_));
    Request* r = owner_.pool().Acquire();
    r->command = "*1\r\n$4\r\nPING\r\n";
    conns_.back()->Send(r);
    EXPECT_TRUE(conns_.back()->down());
    names_[conns_.back().get()] = name;
    return conns_.back().get();
  }

  // The names picked by `n` reads.
  std::vector<std::string> Picks(ShardReadTargets& shard, ReadPolicy policy, int n) {
    std::vector<std::string> picks;
    for (int i = 0; i < n; ++i) picks.push_back(names_[PickReadTarget(shard, policy)]);
    return picks;
  }

  FakeOwner owner_;
  BackendOptions options_;
  std::vector<std::unique_ptr<BackendConn>> conns_;
  std::map<BackendConn*, std::string> names_;
};

using V = std::vector<std::string>;

TEST_F(ReplicaSelectionTest, MasterPolicyAlwaysPicksTheMaster) {
  ShardReadTargets shard{Up("m"), {Up("r1"), Up("r2")}};
  EXPECT_EQ(Picks(shard, ReadPolicy::kMaster, 3), (V{"m", "m", "m"}));
}

TEST_F(ReplicaSelectionTest, ReplicaPoliciesTakeTurnsOverReplicas) {
  ShardReadTargets shard{Up("m"), {Up("r1"), Up("r2")}};
  EXPECT_EQ(Picks(shard, ReadPolicy::kReplica, 4), (V{"r1", "r2", "r1", "r2"}));
  EXPECT_EQ(Picks(shard, ReadPolicy::kPreferReplica, 2), (V{"r1", "r2"}));
}

TEST_F(ReplicaSelectionTest, DeadReplicaIsSkippedAndNoReplicaMeansMaster) {
  ShardReadTargets shard{Up("m"), {Down("r1"), Up("r2")}};
  EXPECT_EQ(Picks(shard, ReadPolicy::kReplica, 3), (V{"r2", "r2", "r2"}));
  ShardReadTargets all_down{Up("m"), {Down("r1"), Down("r2")}};
  EXPECT_EQ(Picks(all_down, ReadPolicy::kReplica, 2), (V{"m", "m"}));
  ShardReadTargets none{Up("m"), {}};
  EXPECT_EQ(Picks(none, ReadPolicy::kPreferReplica, 2), (V{"m", "m"}));
}

TEST_F(ReplicaSelectionTest, PreferMasterUsesReplicasOnlyWhileTheMasterIsDown) {
  ShardReadTargets up{Up("m"), {Up("r1")}};
  EXPECT_EQ(Picks(up, ReadPolicy::kPreferMaster, 2), (V{"m", "m"}));
  ShardReadTargets down{Down("m"), {Up("r1"), Up("r2")}};
  EXPECT_EQ(Picks(down, ReadPolicy::kPreferMaster, 2), (V{"r1", "r2"}));
  ShardReadTargets nothing{Down("m"), {Down("r1")}};
  EXPECT_EQ(Picks(nothing, ReadPolicy::kPreferMaster, 1), (V{"m"}));  // reports why
}

TEST_F(ReplicaSelectionTest, AnyTakesTurnsOverMasterAndReplicas) {
  ShardReadTargets shard{Up("m"), {Up("r1"), Down("r2")}};
  EXPECT_EQ(Picks(shard, ReadPolicy::kAny, 4), (V{"m", "r1", "m", "r1"}));
}

}  // namespace
}  // namespace slotplane::dataplane
