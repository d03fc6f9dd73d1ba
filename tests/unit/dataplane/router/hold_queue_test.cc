// The failover hold queue: order, the per-slot gate, the budget, the hold's clock, and which
// commands may be sent again after a lost connection.

#include "dataplane/router/hold_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/core/policy.h"

namespace slotplane::dataplane {
namespace {

class HoldQueueTest : public ::testing::Test {
 protected:
  Request* Make(uint16_t slot, std::string command = "*1\r\n$4\r\nPING\r\n") {
    Request* r = pool_.Acquire();
    r->slot = slot;
    r->command = std::move(command);
    made_.push_back(r);
    return r;
  }
  void TearDown() override {
    for (Request* r : made_) pool_.Release(r);
  }

  RequestPool pool_;
  std::vector<Request*> made_;
};

std::vector<Request*> Drain(HoldQueue& queue) {
  std::vector<Request*> out;
  for (Request* r = queue.TakeAll(); r != nullptr;) {
    Request* next = r->next_in_backend;
    r->next_in_backend = nullptr;
    out.push_back(r);
    r = next;
  }
  return out;
}

TEST_F(HoldQueueTest, KeepsArrivalOrderAndEmptiesOnTakeAll) {
  HoldQueue queue;
  Request* a = Make(1);
  Request* b = Make(2);
  Request* c = Make(1);
  ASSERT_TRUE(queue.Hold(a, 100));
  ASSERT_TRUE(queue.Hold(b, 100));
  ASSERT_TRUE(queue.Hold(c, 100));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.bytes(), 3 * a->command.size());
  EXPECT_EQ(Drain(queue), (std::vector<Request*>{a, b, c}));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST_F(HoldQueueTest, HoldsSlotOnlyWhileARequestOfThatSlotIsHeld) {
  HoldQueue queue;
  EXPECT_FALSE(queue.HoldsSlot(7));
  ASSERT_TRUE(queue.Hold(Make(7), 1));
  ASSERT_TRUE(queue.Hold(Make(7), 1));
  EXPECT_TRUE(queue.HoldsSlot(7));
  EXPECT_FALSE(queue.HoldsSlot(8));
  Drain(queue);
  EXPECT_FALSE(queue.HoldsSlot(7));
}

TEST_F(HoldQueueTest, RefusesBeyondTheCountBudget) {
  HoldQueue queue(HoldQueue::Budget{2, 1 << 20});
  ASSERT_TRUE(queue.Hold(Make(1), 1));
  ASSERT_TRUE(queue.Hold(Make(1), 1));
  Request* third = Make(3);
  EXPECT_FALSE(queue.Hold(third, 1));
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_FALSE(queue.HoldsSlot(3));
  EXPECT_EQ(third->held_since_ms, 0) << "a refused request is untouched";
  Drain(queue);
  EXPECT_TRUE(queue.Hold(third, 1)) << "room again once the queue drained";
  Drain(queue);
}

TEST_F(HoldQueueTest, RefusesBeyondTheByteBudget) {
  HoldQueue queue(HoldQueue::Budget{100, 10});
  ASSERT_TRUE(queue.Hold(Make(1, std::string(6, 'x')), 1));
  EXPECT_FALSE(queue.Hold(Make(1, std::string(5, 'x')), 1));
  EXPECT_TRUE(queue.Hold(Make(1, std::string(4, 'x')), 1));
  EXPECT_EQ(queue.bytes(), 10u);
  Drain(queue);
}

TEST_F(HoldQueueTest, FirstHoldTimeIsKeptAcrossHolds) {
  HoldQueue queue;
  Request* r = Make(5);
  ASSERT_TRUE(queue.Hold(r, 1000));
  Drain(queue);
  ASSERT_TRUE(queue.Hold(r, 1800));  // sent again, refused again: held again
  EXPECT_EQ(r->held_since_ms, 1000);
  EXPECT_FALSE(HoldExpired(*r, 5999, 5000));
  EXPECT_TRUE(HoldExpired(*r, 6000, 5000));
  Drain(queue);
  pool_.Release(r);
  made_.pop_back();
  Request* fresh = Make(5);
  EXPECT_EQ(fresh->held_since_ms, 0) << "the pool resets the hold time";
  EXPECT_FALSE(HoldExpired(*fresh, 1 << 30, 5000)) << "never held: nothing expired";
}

TEST(ResendableAfterLossTest, ReadOnlyCommandsByTheCommandTableFlag) {
  ProxyPolicy policy;
  FinishPolicy(&policy);
  auto resendable = [&](std::string_view wire) { return ResendableAfterLoss(wire, policy); };
  EXPECT_TRUE(resendable("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"));
  EXPECT_TRUE(resendable("*2\r\n$6\r\nstrlen\r\n$1\r\nk\r\n"));
  EXPECT_TRUE(resendable("*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n"));
  EXPECT_TRUE(resendable("get k\r\n")) << "inline";
  EXPECT_FALSE(resendable("*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"));
  EXPECT_FALSE(resendable("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"));
  EXPECT_FALSE(resendable("*2\r\n$4\r\nEVAL\r\n$1\r\n0\r\n")) << "a script may write";
  EXPECT_FALSE(resendable("*1\r\n$7\r\nNOSUCHC\r\n"));
  EXPECT_FALSE(resendable(""));
  EXPECT_FALSE(resendable("*1\r\n$99\r\nGET\r\n")) << "truncated";
}

TEST(ResendableAfterLossTest, WritesThePolicyLists) {
  ProxyPolicy policy;
  policy.failover_resend_commands = "del,set";
  FinishPolicy(&policy);
  EXPECT_TRUE(ResendableAfterLoss("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", policy));
  EXPECT_TRUE(ResendableAfterLoss("del k\r\n", policy));
  EXPECT_FALSE(ResendableAfterLoss("*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n", policy)) << "not listed";
  EXPECT_TRUE(ResendableAfterLoss("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", policy));
}

TEST(IsClusterDownTest, MatchesOnlyClusterDownErrors) {
  EXPECT_TRUE(IsClusterDown("-CLUSTERDOWN The cluster is down\r\n"));
  EXPECT_TRUE(IsClusterDown("-CLUSTERDOWN Hash slot not served\r\n"));
  EXPECT_FALSE(IsClusterDown("-ERR CLUSTERDOWN\r\n"));
  EXPECT_FALSE(IsClusterDown("+CLUSTERDOWN\r\n"));
  EXPECT_FALSE(IsClusterDown("-CLUSTER"));
}

}  // namespace
}  // namespace slotplane::dataplane
