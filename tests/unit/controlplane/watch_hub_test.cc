#include "controlplane/watch/watch_hub.h"

#include <gtest/gtest.h>

#include "controlplane/watch/snapshot.h"

namespace slotplane::control {
namespace {

// A stream that records what the hub does to it.
class FakeStream : public WatchStream {
 public:
  explicit FakeStream(std::string id) : id_(std::move(id)) {}
  void Offer(const SnapshotPtr& snapshot) override { offered.push_back(snapshot->version); }
  void Close(const grpc::Status& status) override { closed = status.error_code(); }
  bool Describe(v1::ProxyInfo* out) const override {
    if (!hello) return false;
    out->set_proxy_id(id_);
    out->set_acked_version(acked);
    out->set_last_nack_version(nack_version);
    out->set_last_nack_error(nack_error);
    return true;
  }
  bool HelloReceived() const override { return hello; }
  uint64_t AckedVersion() const override { return acked; }
  void Ref() override { ++refs; }
  void Unref() override { --refs; }

  std::vector<uint64_t> offered;
  std::optional<grpc::StatusCode> closed;
  bool hello = false;
  uint64_t acked = 0;
  uint64_t nack_version = 0;
  std::string nack_error;
  int refs = 0;

 private:
  std::string id_;
};

SnapshotPtr Snap(uint64_t version) {
  v1::ProxyConfig config;
  config.set_version(version);
  return BuildSnapshot(config, NonceFor("b", version));
}

class WatchHubTest : public ::testing::Test {
 protected:
  ControlMetrics metrics_;
  WatchHub hub_{&metrics_};
};

TEST_F(WatchHubTest, PublishOffersEachNewVersionOnce) {
  FakeStream a("a"), b("b");
  ASSERT_TRUE(hub_.Add(&a));
  ASSERT_TRUE(hub_.Add(&b));
  hub_.Publish(Snap(1));
  hub_.Publish(Snap(1));  // same version: ignored
  hub_.Publish(Snap(3));
  hub_.Publish(Snap(2));  // older: ignored
  EXPECT_EQ(a.offered, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(b.offered, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(a.refs, 0) << "references taken for the fan-out are released";
  EXPECT_EQ(hub_.Current()->version, 3u);
  hub_.Remove(&a);
  hub_.Publish(Snap(4));
  EXPECT_EQ(a.offered.back(), 3u);
  EXPECT_EQ(b.offered.back(), 4u);
  hub_.Remove(&b);
}

TEST_F(WatchHubTest, ProxiesAreStreamsThatSaidHello) {
  FakeStream a("a"), b("b");
  hub_.Add(&a);
  hub_.Add(&b);
  b.hello = true;
  const auto proxies = hub_.Proxies();
  ASSERT_EQ(proxies.size(), 1u);
  EXPECT_EQ(proxies[0].proxy_id(), "b");
  hub_.Remove(&a);
  hub_.Remove(&b);
}

TEST_F(WatchHubTest, AProxyIdIsClaimedOnce) {
  FakeStream a("a"), b("b"), c("c");
  hub_.Add(&a);
  hub_.Add(&b);
  EXPECT_TRUE(hub_.ClaimProxyId(&a, "proxy-1"));
  EXPECT_TRUE(hub_.ClaimProxyId(&a, "proxy-1")) << "the holder may say Hello again";
  EXPECT_FALSE(hub_.ClaimProxyId(&b, "proxy-1")) << "a live stream holds it";
  EXPECT_TRUE(hub_.ClaimProxyId(&b, "proxy-2"));
  EXPECT_FALSE(hub_.ClaimProxyId(&c, "proxy-3")) << "not registered";
  hub_.Remove(&a);
  hub_.Add(&c);
  EXPECT_TRUE(hub_.ClaimProxyId(&c, "proxy-1")) << "free once its stream ended";
  hub_.Remove(&b);
  hub_.Remove(&c);
}

TEST_F(WatchHubTest, WaiterIsDoneWhenEveryProxyAcked) {
  FakeStream a("a"), b("b"), silent("silent");
  hub_.Add(&a);
  hub_.Add(&b);
  hub_.Add(&silent);  // no Hello: not waited for
  a.hello = b.hello = true;
  hub_.Publish(Snap(5));
  int done = -1;
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  hub_.AddWaiter(5, [&](const grpc::Status& s, int proxies) {
    code = s.error_code();
    done = proxies;
  });
  EXPECT_EQ(done, -1);
  a.acked = 5;
  hub_.AckProgress();
  EXPECT_EQ(done, -1);
  b.nack_version = 5;
  b.nack_error = "bad";
  EXPECT_NE(hub_.Laggards(5).find("b (acked 0, NACKed 5: bad)"), std::string::npos)
      << hub_.Laggards(5);
  b.acked = 6;  // a later version counts
  hub_.AckProgress();
  EXPECT_EQ(done, 2);
  EXPECT_EQ(code, grpc::StatusCode::OK);
  for (FakeStream* s : {&a, &b, &silent}) hub_.Remove(s);
}

TEST_F(WatchHubTest, WaiterForAFutureVersionWaitsForItsPublication) {
  int done = -1;
  const auto id = hub_.AddWaiter(2, [&](const grpc::Status&, int proxies) { done = proxies; });
  hub_.Publish(Snap(1));
  EXPECT_EQ(done, -1);
  hub_.Publish(Snap(2));
  EXPECT_EQ(done, 0) << "no proxy connected: done once published";
  EXPECT_FALSE(hub_.CancelWaiter(id));
}

TEST_F(WatchHubTest, DisconnectOfTheLastLaggardCompletesWaiters) {
  FakeStream a("a"), slow("slow");
  hub_.Add(&a);
  hub_.Add(&slow);
  a.hello = slow.hello = true;
  hub_.Publish(Snap(1));
  a.acked = 1;
  int done = -1;
  const auto id = hub_.AddWaiter(1, [&](const grpc::Status&, int proxies) { done = proxies; });
  EXPECT_EQ(done, -1);
  hub_.Remove(&slow);
  EXPECT_EQ(done, 1);
  EXPECT_FALSE(hub_.CancelWaiter(id));
  const auto cancelled = hub_.AddWaiter(9, [&](const grpc::Status&, int) { done = 99; });
  EXPECT_TRUE(hub_.CancelWaiter(cancelled));
  hub_.Publish(Snap(9));
  a.acked = 9;
  hub_.AckProgress();
  EXPECT_EQ(done, 1);
  hub_.Remove(&a);
}

TEST_F(WatchHubTest, ShutdownClosesStreamsAndWaiters) {
  FakeStream a("a");
  hub_.Add(&a);
  a.hello = true;
  grpc::StatusCode waiter_code = grpc::StatusCode::OK;
  hub_.AddWaiter(3, [&](const grpc::Status& s, int) { waiter_code = s.error_code(); });
  hub_.Shutdown(grpc::Status(grpc::StatusCode::UNAVAILABLE, "bye"));
  EXPECT_EQ(a.closed, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(waiter_code, grpc::StatusCode::UNAVAILABLE);
  FakeStream late("late");
  EXPECT_FALSE(hub_.Add(&late));
  hub_.Remove(&a);
}

}  // namespace
}  // namespace slotplane::control
