// Pub/sub through the proxy in front of a 3-master cluster gives what one Redis gives, checked byte
// for byte against a standalone redis-server running the same steps: PUBLISH counts with pattern
// subscribers (whatever master the channel's slot is on), every message exactly once, "message"
// before "pmessage" for a message matching both, PUBSUB NUMPAT/NUMSUB/CHANNELS, and keyspace
// notifications (enabled with CONFIG SET through the proxy) for keys on every master, in RESP2 and
// RESP3; notifications through a slot migration and, subscribed again, after a failover.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/standalone_redis.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

constexpr absl::Duration kReadTimeout = absl::Seconds(20);

// The end of the RESP2/RESP3 value at `pos`, or nullopt when incomplete.
std::optional<size_t> ValueEnd(absl::string_view data, size_t pos) {
  const size_t eol = data.find("\r\n", pos);
  if (pos >= data.size() || eol == absl::string_view::npos) return std::nullopt;
  const char kind = data[pos];
  const long long n = std::atoll(std::string(data.substr(pos + 1, eol - pos - 1)).c_str());
  size_t end = eol + 2;
  if (kind == '$' || kind == '=' || kind == '!') {
    if (n < 0) return end;
    end += static_cast<size_t>(n) + 2;
    return end <= data.size() ? std::optional<size_t>(end) : std::nullopt;
  }
  if (kind != '*' && kind != '>' && kind != '~' && kind != '%') return end;
  const long long elements = kind == '%' ? 2 * n : n;
  for (long long i = 0; i < elements; ++i) {
    const std::optional<size_t> next = ValueEnd(data, end);
    if (!next.has_value()) return std::nullopt;
    end = *next;
  }
  return end;
}

size_t CountValues(absl::string_view data) {
  size_t count = 0, pos = 0;
  while (pos < data.size()) {
    const std::optional<size_t> end = ValueEnd(data, pos);
    if (!end.has_value()) break;
    pos = *end;
    ++count;
  }
  return count;
}

// One name per master, each in the first slot that master owns.
absl::StatusOr<std::vector<std::string>> NamePerMaster(RedisCluster& cluster,
                                                       const std::string& prefix) {
  absl::StatusOr<std::vector<int>> owners = cluster.Masters();
  if (!owners.ok()) return owners.status();
  absl::StatusOr<std::vector<int>> slots = cluster.SlotOwners();
  if (!slots.ok()) return slots.status();
  std::vector<std::string> out;
  for (int master : *owners) {
    for (int slot = 0; slot < kSlotCount; ++slot) {
      if ((*slots)[slot] == master) {
        out.push_back(KeyInSlot(static_cast<uint16_t>(slot), prefix));
        break;
      }
    }
  }
  return out;
}

// One server (the proxy or the standalone Redis) and the connections of a test on it.
struct Side {
  std::string label;
  uint16_t port = 0;
  std::vector<RawConnection> subscribers;
  std::vector<std::string> streams;     // what each subscriber received
  std::vector<size_t> expected_values;  // how many values each should have received so far
  std::unique_ptr<TestClient> client;   // for PUBLISH, SET, CONFIG SET, PUBSUB

  absl::Status Connect(int subscriber_count) {
    for (int i = 0; i < subscriber_count; ++i) {
      absl::StatusOr<RawConnection> raw = RawConnection::Connect(port);
      if (!raw.ok()) return raw.status();
      subscribers.push_back(*std::move(raw));
    }
    streams.assign(subscriber_count, "");
    expected_values.assign(subscriber_count, 0);
    absl::StatusOr<std::unique_ptr<TestClient>> c = TestClient::Connect("127.0.0.1", port);
    if (!c.ok()) return c.status();
    client = *std::move(c);
    return absl::OkStatus();
  }

  // Sends `argv` on subscriber `i`, which then expects `values` more values.
  absl::Status Send(size_t i, const Command& argv, size_t values) {
    expected_values[i] += values;
    return subscribers[i].Send(EncodeCommand(argv));
  }
  // Subscriber `i` expects `values` more values (messages someone else causes).
  void Expect(size_t i, size_t values) { expected_values[i] += values; }

  // Reads until every subscriber has its expected values. A value more than expected shows in
  // the byte comparisons of the streams.
  absl::Status Read() {
    for (size_t i = 0; i < subscribers.size(); ++i) {
      const size_t want = expected_values[i];
      std::string& stream = streams[i];
      if (CountValues(stream) >= want) continue;
      absl::StatusOr<ReadResult> got = subscribers[i].ReadUntil(
          [&](absl::string_view data) { return CountValues(absl::StrCat(stream, data)) >= want; },
          kReadTimeout);
      if (!got.ok()) return got.status();
      stream += got->data;
      if (CountValues(stream) < want) {
        return absl::DeadlineExceededError(absl::StrCat(label, " subscriber ", i, ": ",
                                                        CountValues(stream), " of ", want,
                                                        " values: ", stream));
      }
    }
    return absl::OkStatus();
  }
};

class ProxyPubSubParityTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-pubsub-parity"));
    dir_.emplace(std::move(dir));
    ASSERT_OK_AND_ASSIGN(StandaloneRedis redis, StartStandaloneRedis(*dir_));
    redis_ = std::move(redis);
    redis_side_.label = "redis";
    redis_side_.port = redis_.port;
    proxy_side_.label = "proxy";
    proxy_side_.port = proxy().port();
    // Subscriptions of an earlier test end asynchronously on the nodes.
    ASSERT_OK_AND_ASSIGN(auto client, proxy().Connect());
    EXPECT_TRUE(WaitFor(
        [&] {
          return client->Command({"PUBSUB", "NUMPAT"}) == Reply::Integer(0) &&
                 client->Command({"PUBSUB", "CHANNELS"}) == Reply::Array({});
        },
        absl::Seconds(20)));
  }

  void TearDown() override {
    if (proxy_side_.client != nullptr) {
      EXPECT_EQ(proxy_side_.client->Command({"CONFIG", "SET", "notify-keyspace-events", ""}),
                Reply::Status("OK"));
    }
    SharedClusterTest::TearDown();
  }

  // Runs `step` on the standalone Redis then on the proxy, and expects every subscriber stream
  // and every reply `step` returns to be the same bytes on both.
  void Both(const std::function<std::vector<Reply>(Side&)>& step) {
    std::vector<Reply> replies[2];
    Side* sides[2] = {&redis_side_, &proxy_side_};
    for (int s = 0; s < 2; ++s) {
      replies[s] = step(*sides[s]);
      ASSERT_OK(sides[s]->Read());
    }
    EXPECT_EQ(replies[1], replies[0]);
    for (size_t i = 0; i < redis_side_.streams.size(); ++i) {
      EXPECT_EQ(proxy_side_.streams[i], redis_side_.streams[i]) << "subscriber " << i;
    }
  }

  std::optional<TempDir> dir_;  // before redis_: removed after the server stopped
  StandaloneRedis redis_;
  Side redis_side_, proxy_side_;
};

class ProxyPubSubParityProtocolTest : public ProxyPubSubParityTest,
                                      public ::testing::WithParamInterface<bool> {
 protected:
  // Connects `subscribers` subscribers on each side, in RESP3 with the parameter.
  void ConnectBoth(int subscribers) {
    for (Side* side : {&redis_side_, &proxy_side_}) {
      ASSERT_OK(side->Connect(subscribers));
      if (!GetParam()) continue;
      for (int i = 0; i < subscribers; ++i) {
        // HELLO's map holds the server's id and version: read it, keep it out of the comparison.
        ASSERT_OK(side->Send(i, {"HELLO", "3"}, 1));
        ASSERT_OK(side->Read());
        side->streams[i].clear();
        side->expected_values[i] = 0;
      }
    }
  }
};

// "*" can match keyspace channels, so the proxy subscribes it on every master: keyspace events of
// keys on every master arrive. A PUBLISHed message reaches every master over the cluster bus, yet
// the subscriber gets it once and PUBLISH counts it once, whatever master the channel's slot is on.
TEST_P(ProxyPubSubParityProtocolTest, PatternSubscriberSeesEveryMessageOnceAndEveryKeyspaceEvent) {
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> channels,
                       NamePerMaster(cluster(), "parity:ch:"));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> keys, NamePerMaster(cluster(), "parity:k:"));
  ASSERT_EQ(channels.size(), 3u);
  ConnectBoth(1);
  for (const std::string& key : keys) {
    ASSERT_EQ(proxy_side_.client->Command({"DEL", key}).type, Reply::Type::kInteger);
  }
  Both([&](Side& side) -> std::vector<Reply> {
    EXPECT_OK(side.Send(0, {"PSUBSCRIBE", "*"}, 1));
    EXPECT_OK(side.Read());
    // Through the proxy, CONFIG SET reaches every node.
    return {side.client->Command({"CONFIG", "SET", "notify-keyspace-events", "KEA"})};
  });
  // Subscribers straight on the other masters show when a message has reached them over the bus:
  // the copy for the proxy's subscription there has then been sent too, before any later event of
  // that master, so a copy the proxy passed on would show in the comparisons below. (They are not
  // on the home node, where they would count in PUBLISH.)
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  ASSERT_OK_AND_ASSIGN(const int home, cluster().SlotOwner(0));
  std::vector<std::unique_ptr<TestClient>> witnesses;
  for (int master : masters) {
    if (master == home) continue;
    ASSERT_OK_AND_ASSIGN(auto conn, cluster().Connect(master));
    ASSERT_EQ(conn->Command({"PSUBSCRIBE", "*"}).elements.size(), 3u);
    witnesses.push_back(std::move(conn));
  }
  ASSERT_EQ(witnesses.size(), 2u);
  // A channel in a slot of each master; the one subscriber behind the proxy is the pattern's.
  Both([&](Side& side) {
    std::vector<Reply> replies;
    for (const std::string& channel : channels) {
      replies.push_back(side.client->Command({"PUBLISH", channel, "hello " + channel}));
      side.Expect(0, 1);
    }
    return replies;
  });
  for (auto& conn : witnesses) {
    for (const std::string& channel : channels) {
      const Reply m = conn->GetReply();
      ASSERT_EQ(m.elements.size(), 4u) << m;
      EXPECT_EQ(m.elements[3].str, "hello " + channel);
    }
  }
  // A key on each master: each node publishes its keys' events (keyspace then keyevent), after
  // the copies of the messages above.
  for (const std::string& key : keys) {
    Both([&](Side& side) -> std::vector<Reply> {
      side.Expect(0, 2);
      return {side.client->Command({"SET", key, "v"})};
    });
  }
  EXPECT_EQ(CountValues(proxy_side_.streams[0]), 1u + 3u + 6u) << proxy_side_.streams[0];
  for (const std::string& key : keys) {
    EXPECT_NE(proxy_side_.streams[0].find("__keyspace@0__:" + key), std::string::npos) << key;
  }
}

// A message matching a channel and a pattern of one client arrives as "message" then "pmessage";
// PUBLISH counts both, PUBSUB NUMPAT counts distinct patterns once (one that lives on every master
// too), NUMSUB and CHANNELS as one Redis.
TEST_P(ProxyPubSubParityProtocolTest, ChannelAndPatternOfOneMessageInRedisOrder) {
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> channels, NamePerMaster(cluster(), "mix:"));
  ASSERT_EQ(channels.size(), 3u);
  ConnectBoth(2);
  Both([&](Side& side) -> std::vector<Reply> {
    EXPECT_OK(side.Send(0, {"SUBSCRIBE", channels[0], channels[1], channels[2]}, 3));
    EXPECT_OK(side.Send(0, {"PSUBSCRIBE", "mix:*"}, 1));
    EXPECT_OK(side.Send(1, {"PSUBSCRIBE", "mix:*", "__keyevent@0__:*"}, 2));
    EXPECT_OK(side.Read());
    Reply listed = side.client->Command({"PUBSUB", "CHANNELS", "mix:*"});
    std::sort(listed.elements.begin(), listed.elements.end(),
              [](const Reply& a, const Reply& b) { return a.str < b.str; });
    return {side.client->Command({"PUBSUB", "NUMPAT"}),
            side.client->Command(
                {"PUBSUB", "NUMSUB", channels[0], channels[1], channels[2], "mix:none"}),
            listed};
  });
  EXPECT_EQ(proxy_side_.client->Command({"PUBSUB", "NUMPAT"}), Reply::Integer(2));
  Both([&](Side& side) {
    std::vector<Reply> replies;
    for (const std::string& channel : channels) {
      replies.push_back(side.client->Command({"PUBLISH", channel, "both " + channel}));
      side.Expect(0, 2);
      side.Expect(1, 1);
    }
    return replies;
  });
  EXPECT_EQ(proxy_side_.client->Command({"PUBLISH", "mix:x", "-"}), Reply::Integer(2));
  EXPECT_EQ(redis_side_.client->Command({"PUBLISH", "mix:x", "-"}), Reply::Integer(2));
  // The messages arrive before the unsubscriptions go: a message still on its way from the node
  // when the client's UNSUBSCRIBE reaches the proxy is not delivered (docs/compatibility.md).
  Both([&](Side& side) -> std::vector<Reply> {
    side.Expect(0, 1);
    side.Expect(1, 1);
    return {};
  });
  Both([&](Side& side) -> std::vector<Reply> {
    EXPECT_OK(side.Send(1, {"PUNSUBSCRIBE", "mix:*", "__keyevent@0__:*"}, 2));
    EXPECT_OK(side.Send(0, {"UNSUBSCRIBE", channels[1]}, 1));
    EXPECT_OK(side.Read());
    return {side.client->Command({"PUBSUB", "NUMPAT"}),
            side.client->Command({"PUBLISH", channels[1], "pattern only"}),
            side.client->Command({"PUBLISH", channels[2], "both again"})};
  });
  Both([&](Side& side) -> std::vector<Reply> {
    side.Expect(0, 3);
    return {};
  });
}

// A keyspace channel lives on every master, so a key's notifications keep arriving after its slot
// moved to another master.
TEST_F(ProxyPubSubParityTest, KeyspaceNotificationsFollowAKeyThroughASlotMigration) {
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> keys, NamePerMaster(cluster(), "moving:"));
  ASSERT_OK_AND_ASSIGN(const int home, cluster().SlotOwner(0));
  std::string key;
  for (const std::string& k : keys) {
    if (KeyHashSlot(k) != 0) key = k;
  }
  const uint16_t slot = KeyHashSlot(key);
  ASSERT_OK_AND_ASSIGN(const int source, cluster().SlotOwner(slot));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  int target = -1;
  for (int master : masters) {
    if (master != source && master != home) target = master;
  }
  if (target < 0) target = home;
  ASSERT_OK(proxy_side_.Connect(0));
  ASSERT_OK_AND_ASSIGN(auto subscriber, proxy().Connect());
  EXPECT_EQ(proxy_side_.client->Command({"CONFIG", "SET", "notify-keyspace-events", "KEA"}),
            Reply::Status("OK"));
  const std::string channel = "__keyspace@0__:" + key;
  EXPECT_EQ(subscriber->Command({"SUBSCRIBE", channel}),
            Reply::Array({Reply::String("subscribe"), Reply::String(channel), Reply::Integer(1)}));
  // Writes `value` and reads notifications up to its "set"; what comes before it can only be the
  // migration's own ("del" on the source, "restore" on the target).
  auto set_and_see = [&](const std::string& value) {
    EXPECT_EQ(proxy_side_.client->Command({"SET", key, value}), Reply::Status("OK"));
    for (int i = 0; i < 5; ++i) {
      const Reply m = subscriber->GetReply();
      ASSERT_EQ(m.elements.size(), 3u) << m;
      EXPECT_EQ(m.elements[1].str, channel);
      if (m.elements[2].str == "set") return;
      EXPECT_TRUE(m.elements[2].str == "del" || m.elements[2].str == "restore") << m;
    }
    ADD_FAILURE() << "no set notification for " << key;
  };
  set_and_see("before");
  SlotMigration there(cluster(), slot, source, target);
  ASSERT_OK(there.Run());
  set_and_see("after");
  SlotMigration back(cluster(), slot, target, source);
  ASSERT_OK(back.Run());
  set_and_see("back");
  EXPECT_EQ(proxy_side_.client->Command({"DEL", key}), Reply::Integer(1));
}

// A master fails: the subscriber's connection is closed (its subscription there is gone, as when a
// Redis server goes away); subscribed again, it gets the notifications of the promoted replica's
// keys, since CONFIG SET through the proxy reached the replicas too.
TEST(ProxyPubSubFailoverTest, KeyspaceSubscriberSubscribedAgainAfterAFailover) {
  RedisClusterOptions options;
  options.node_timeout = absl::Milliseconds(1000);
  ASSERT_OK_AND_ASSIGN(auto cluster, RedisCluster::Start(options));
  ProxyOptions proxy_options;
  proxy_options.seeds = cluster->addresses();
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(proxy_options));
  ASSERT_OK_AND_ASSIGN(auto client, proxy->Connect());
  EXPECT_EQ(client->Command({"CONFIG", "SET", "notify-keyspace-events", "KEA"}),
            Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> keys, NamePerMaster(*cluster, "fo:"));
  ASSERT_OK_AND_ASSIGN(const int home, cluster->SlotOwner(0));
  std::string key;
  for (const std::string& k : keys) {
    ASSERT_OK_AND_ASSIGN(const int owner, cluster->SlotOwner(KeyHashSlot(k)));
    if (owner != home) key = k;
  }
  const uint16_t slot = KeyHashSlot(key);
  ASSERT_OK_AND_ASSIGN(const int victim, cluster->SlotOwner(slot));
  const Reply confirmation = Reply::Array(
      {Reply::String("subscribe"), Reply::String("__keyevent@0__:set"), Reply::Integer(1)});
  const Reply event = Reply::Array(
      {Reply::String("message"), Reply::String("__keyevent@0__:set"), Reply::String(key)});
  ASSERT_OK_AND_ASSIGN(auto subscriber, proxy->Connect());
  EXPECT_EQ(subscriber->Command({"SUBSCRIBE", "__keyevent@0__:set"}), confirmation);
  EXPECT_EQ(client->Command({"SET", key, "before"}), Reply::Status("OK"));
  EXPECT_EQ(subscriber->GetReply(), event);
  ASSERT_OK(cluster->WaitForReplicasInSync(victim));
  ASSERT_OK_AND_ASSIGN(const int64_t topology_before, proxy->InfoCounter("topology_version"));

  ASSERT_OK(cluster->KillNode(victim));
  EXPECT_EQ(subscriber->GetReply().type, Reply::Type::kTransportError);
  ASSERT_OK(cluster->WaitForFailover(slot, victim));
  std::unique_ptr<TestClient> writer;
  ASSERT_TRUE(WaitFor(
      [&] {
        if (writer == nullptr || !writer->connected()) writer = proxy->Connect().value_or(nullptr);
        absl::StatusOr<int64_t> version = proxy->InfoCounter("topology_version");
        return writer != nullptr && version.ok() && *version > topology_before &&
               writer->Command({"SET", key, "after"}) == Reply::Status("OK");
      },
      absl::Seconds(60)));
  ASSERT_OK_AND_ASSIGN(subscriber, proxy->Connect());
  EXPECT_EQ(subscriber->Command({"SUBSCRIBE", "__keyevent@0__:set"}), confirmation);
  EXPECT_EQ(writer->Command({"SET", key, "again"}), Reply::Status("OK"));
  EXPECT_EQ(subscriber->GetReply(), event);
}

INSTANTIATE_TEST_SUITE_P(Protocols, ProxyPubSubParityProtocolTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Resp3" : "Resp2";
                         });

}  // namespace
}  // namespace slotplane::integration
