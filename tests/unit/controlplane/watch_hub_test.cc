#include "controlplane/watch/watch_hub.h"

#include <gtest/gtest.h>

#include <map>

#include "controlplane/watch/convergence.h"
#include "controlplane/watch/snapshot.h"
#include "prometheus/metric_family.h"

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

// The series of `name` in a scrape of `metrics`: label value of `label` (empty: unlabelled) to
// the gauge value, or to the histogram's sample count.
std::map<std::string, double> Series(const ControlMetrics& metrics, const std::string& name,
                                     const std::string& label = "") {
  std::map<std::string, double> out;
  for (const prometheus::MetricFamily& family : metrics.registry()->Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      std::string key;
      for (const auto& pair : metric.label) {
        if (pair.name == label) key = pair.value;
      }
      out[key] = family.type == prometheus::MetricType::Histogram
                     ? static_cast<double>(metric.histogram.sample_count)
                 : family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                                  : metric.gauge.value;
    }
  }
  return out;
}

TEST_F(WatchHubTest, AckedVersionSeriesExistOnlyForConnectedProxies) {
  FakeStream a("a"), b("b");
  hub_.Add(&a);
  hub_.Add(&b);
  EXPECT_TRUE(Series(metrics_, "slotplane_control_proxy_acked_version", "proxy").empty())
      << "no series before a Hello";
  ASSERT_TRUE(hub_.ClaimProxyId(&a, "proxy-a"));
  a.hello = true;
  ASSERT_TRUE(hub_.ClaimProxyId(&b, "proxy-b"));
  b.hello = true;
  hub_.Publish(Snap(5));
  a.acked = 5;
  hub_.AckProgress();
  EXPECT_EQ(Series(metrics_, "slotplane_control_proxy_acked_version", "proxy"),
            (std::map<std::string, double>{{"proxy-a", 5}, {"proxy-b", 0}}));
  hub_.Remove(&b);
  EXPECT_EQ(Series(metrics_, "slotplane_control_proxy_acked_version", "proxy"),
            (std::map<std::string, double>{{"proxy-a", 5}}))
      << "the series of an ended stream is removed";
  hub_.Remove(&a);
  EXPECT_TRUE(Series(metrics_, "slotplane_control_proxy_acked_version", "proxy").empty());
}

TEST_F(WatchHubTest, ConvergenceIsObservedWhenTheLastProxyAcksOrLeaves) {
  constexpr char kName[] = "slotplane_control_fleet_convergence_seconds";
  hub_.Publish(Snap(1));  // no proxy connected: not measured
  FakeStream a("a"), b("b");
  hub_.Add(&a);
  hub_.Add(&b);
  a.hello = b.hello = true;
  hub_.AckProgress();
  hub_.Publish(Snap(2));
  a.acked = 2;
  hub_.AckProgress();
  EXPECT_EQ(Series(metrics_, kName)[""], 0) << "b has not acked version 2";
  b.acked = 2;
  hub_.AckProgress();
  EXPECT_EQ(Series(metrics_, kName)[""], 1) << "every proxy acked version 2";
  hub_.AckProgress();
  EXPECT_EQ(Series(metrics_, kName)[""], 1) << "a version is measured once";

  hub_.Publish(Snap(3));
  hub_.Publish(Snap(4));
  a.acked = 4;  // a skipped 3: acking 4 covers it
  hub_.AckProgress();
  EXPECT_EQ(Series(metrics_, kName)[""], 1);
  hub_.Remove(&b);  // the last laggard leaves: 3 and 4 converged
  EXPECT_EQ(Series(metrics_, kName)[""], 3);

  hub_.Publish(Snap(5));
  hub_.Remove(&a);  // the fleet is gone before converging: 5 is dropped, not measured
  EXPECT_EQ(Series(metrics_, kName)[""], 3);
}

TEST(ConvergenceTrackerTest, MeasuresFromPublicationToTheSlowestAck) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  ConvergenceTracker tracker;
  tracker.Published(7, t0, 2);
  tracker.Published(8, t0 + absl::Seconds(1), 2);
  EXPECT_TRUE(tracker.Progress(2, 6, t0 + absl::Seconds(2)).empty());
  EXPECT_EQ(tracker.Progress(2, 7, t0 + absl::Seconds(3)),
            (std::vector<absl::Duration>{absl::Seconds(3)}));
  EXPECT_EQ(tracker.Progress(1, 9, t0 + absl::Seconds(4)),
            (std::vector<absl::Duration>{absl::Seconds(3)}));
  EXPECT_EQ(tracker.pending(), 0u);
  tracker.Published(10, t0, 0);
  EXPECT_EQ(tracker.pending(), 0u) << "nobody connected: nothing to measure";
  for (uint64_t v = 11; v < 11 + ConvergenceTracker::kMaxPending + 5; ++v) {
    tracker.Published(v, t0, 1);
  }
  EXPECT_EQ(tracker.pending(), ConvergenceTracker::kMaxPending) << "bounded";
}

TEST(NackReasonTest, ClassifiesTheProxysErrorPrefixes) {
  EXPECT_EQ(ClassifyNack("topology: shard 0 has no master"), NackReason::kTopology);
  EXPECT_EQ(ClassifyNack("policy: maxclients 10 is more than ..."), NackReason::kPolicy);
  EXPECT_EQ(ClassifyNack("something else"), NackReason::kOther);
  EXPECT_EQ(ClassifyNack(""), NackReason::kOther);
  EXPECT_STREQ(NackReasonName(NackReason::kTooLarge), "too_large");
}

TEST(NackReasonTest, EveryReasonHasASeriesFromTheStart) {
  ControlMetrics metrics;
  EXPECT_EQ(Series(metrics, "slotplane_control_nacks_total", "reason"),
            (std::map<std::string, double>{
                {"other", 0}, {"policy", 0}, {"too_large", 0}, {"topology", 0}}));
  metrics.CountNack(NackReason::kPolicy);
  EXPECT_EQ(Series(metrics, "slotplane_control_nacks_total", "reason")["policy"], 1);
}

}  // namespace
}  // namespace slotplane::control
