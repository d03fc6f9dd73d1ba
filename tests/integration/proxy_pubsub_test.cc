// Pub/sub through the proxy: a storm of 100,000 messages arrives complete and in order, pattern
// and shard-channel subscriptions across all shards, subscribed mode byte for byte like a Redis
// node (confirmation counts, PING, refused commands), PUBSUB introspection, redis-py's PubSub, a
// subscriber that does not read, and a shard channel whose slot moves.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

using Command = std::vector<std::string>;

constexpr absl::Duration kReadTimeout = absl::Seconds(20);

Reply Str(const std::string& s) { return Reply::String(s); }
Reply Int(long long n) { return Reply::Integer(n); }
Reply Arr(std::vector<Reply> elements) { return Reply::Array(std::move(elements)); }

// One name per master, each in the first slot that master owns.
absl::StatusOr<std::vector<std::string>> NamePerMaster(RedisCluster& cluster,
                                                       const std::string& prefix) {
  absl::StatusOr<std::vector<int>> owners = cluster.SlotOwners();
  if (!owners.ok()) return owners.status();
  std::map<int, std::string> names;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    const int owner = (*owners)[slot];
    if (owner >= 0 && names.find(owner) == names.end()) names[owner] = KeyInSlot(slot, prefix);
  }
  std::vector<std::string> out;
  for (auto& [owner, name] : names) out.push_back(name);
  return out;
}

// The resident memory of a process in kB, from /proc.
int64_t ResidentKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) return std::stoll(line.substr(6));
  }
  return -1;
}

class ProxyPubSubTest : public SharedClusterTest {
 protected:
  std::unique_ptr<TestClient> Proxy() {
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect();
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
};

TEST_F(ProxyPubSubTest, StormOfMessagesArrivesCompleteAndInOrder) {
  constexpr int kMessages = 100000;
  auto subscriber = Proxy();
  auto publisher = Proxy();
  ASSERT_NE(subscriber, nullptr);
  ASSERT_NE(publisher, nullptr);
  EXPECT_EQ(subscriber->Command({"SUBSCRIBE", "storm"}),
            Arr({Str("subscribe"), Str("storm"), Int(1)}));

  int received = 0;
  std::string first_problem;
  std::thread reader([&] {
    for (; received < kMessages; ++received) {
      Reply message = subscriber->GetReply();
      const Reply expected =
          Arr({Str("message"), Str("storm"), Str(absl::StrCat("payload-", received))});
      if (message != expected) {
        first_problem = absl::StrCat("message ", received, ": ", message.DebugString());
        return;
      }
    }
  });
  std::vector<Command> batch;
  long long delivered = 0;
  for (int i = 0; i < kMessages; ++i) {
    batch.push_back({"PUBLISH", "storm", absl::StrCat("payload-", i)});
    if (batch.size() == 5000 || i + 1 == kMessages) {
      for (const Reply& reply : publisher->Pipeline(batch)) delivered += reply.integer;
      batch.clear();
    }
  }
  reader.join();
  EXPECT_EQ(first_problem, "");
  EXPECT_EQ(received, kMessages);
  // PUBLISH goes to the home node, where the proxy keeps the subscription: each one counts the
  // subscriber.
  EXPECT_EQ(delivered, kMessages);
  EXPECT_EQ(subscriber->Command({"UNSUBSCRIBE"}), Arr({Str("unsubscribe"), Str("storm"), Int(0)}));
  EXPECT_EQ(subscriber->Command({"PING"}), Reply::Status("PONG"));
}

TEST_F(ProxyPubSubTest, PatternSubscriptionsSeeChannelsOfEveryShard) {
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> channels,
                       NamePerMaster(cluster(), "pattern:"));
  auto subscriber = Proxy();
  auto publisher = Proxy();
  ASSERT_NE(subscriber, nullptr);
  ASSERT_NE(publisher, nullptr);
  EXPECT_EQ(subscriber->Command({"PSUBSCRIBE", "pattern:*"}),
            Arr({Str("psubscribe"), Str("pattern:*"), Int(1)}));
  for (const std::string& channel : channels) {
    EXPECT_EQ(publisher->Command({"PUBLISH", channel, "hello " + channel}).type,
              Reply::Type::kInteger);
    EXPECT_EQ(subscriber->GetReply(),
              Arr({Str("pmessage"), Str("pattern:*"), Str(channel), Str("hello " + channel)}));
  }
  EXPECT_EQ(publisher->Command({"PUBLISH", "other", "x"}), Int(0));
  EXPECT_EQ(subscriber->Command({"PUNSUBSCRIBE", "pattern:*"}),
            Arr({Str("punsubscribe"), Str("pattern:*"), Int(0)}));
}

TEST_F(ProxyPubSubTest, ShardChannelsAcrossAllShards) {
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> channels, NamePerMaster(cluster(), "shard:"));
  ASSERT_GE(channels.size(), 3u);
  auto subscriber = Proxy();
  auto publisher = Proxy();
  ASSERT_NE(subscriber, nullptr);
  ASSERT_NE(publisher, nullptr);
  // One SSUBSCRIBE naming channels of every shard: Redis's confirmations and counts.
  subscriber->Append({"SSUBSCRIBE", channels[0], channels[1], channels[2]});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(subscriber->GetReply(), Arr({Str("ssubscribe"), Str(channels[i]), Int(i + 1)}));
  }
  for (const std::string& channel : channels) {
    EXPECT_EQ(publisher->Command({"SPUBLISH", channel, "to " + channel}), Int(1));
    EXPECT_EQ(subscriber->GetReply(), Arr({Str("smessage"), Str(channel), Str("to " + channel)}));
  }
  EXPECT_EQ(subscriber->Command({"SUNSUBSCRIBE", channels[1]}),
            Arr({Str("sunsubscribe"), Str(channels[1]), Int(2)}));
  EXPECT_EQ(publisher->Command({"SPUBLISH", channels[1], "lost"}), Int(0));
  EXPECT_EQ(publisher->Command({"SPUBLISH", channels[2], "kept"}), Int(1));
  EXPECT_EQ(subscriber->GetReply(), Arr({Str("smessage"), Str(channels[2]), Str("kept")}));
  // Classic and shard subscriptions are counted apart, as in Redis 7.0.
  EXPECT_EQ(subscriber->Command({"SUBSCRIBE", "classic"}),
            Arr({Str("subscribe"), Str("classic"), Int(1)}));
  subscriber->Append({"SUNSUBSCRIBE"});
  std::map<std::string, long long> counts;
  for (int i = 0; i < 2; ++i) {
    Reply r = subscriber->GetReply();
    ASSERT_EQ(r.elements.size(), 3u) << r;
    EXPECT_EQ(r.elements[0], Str("sunsubscribe"));
    counts[r.elements[1].str] = r.elements[2].integer;
  }
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(subscriber->Command({"UNSUBSCRIBE"}),
            Arr({Str("unsubscribe"), Str("classic"), Int(0)}));
  EXPECT_EQ(subscriber->Command({"GET", "{shard}:nothing"}), Reply::Nil());
}

TEST_F(ProxyPubSubTest, SubscribedModeReadsLikeARedisNode) {
  // x is a shard channel: the node compared against must own it.
  const std::string x = "{subscribed-mode}:x";
  const std::vector<Command> session = {{"SUBSCRIBE", "mode-a", "mode-b"},
                                        {"PSUBSCRIBE", "mode-p*"},
                                        {"SSUBSCRIBE", x},
                                        {"PING"},
                                        {"PING", "hi"},
                                        {"GET", x},
                                        {"CONFIG", "GET", "maxmemory"},
                                        {"NOSUCHCOMMAND"},
                                        {"UNSUBSCRIBE", "mode-b"},
                                        {"UNSUBSCRIBE"},
                                        {"PUNSUBSCRIBE"},
                                        {"SUNSUBSCRIBE"},
                                        {"UNSUBSCRIBE"},
                                        {"GET", x},
                                        {"PING"}};
  constexpr size_t kReplies = 16;
  std::string bytes;
  for (const Command& command : session) bytes += EncodeCommand(command);

  ASSERT_OK_AND_ASSIGN(const int owner, cluster().SlotOwner(KeyHashSlot(x)));
  ASSERT_OK_AND_ASSIGN(RawConnection node, RawConnection::Connect(cluster().port(owner)));
  ASSERT_OK(node.Send(bytes));
  ASSERT_OK_AND_ASSIGN(const ReadResult from_node, node.ReadReplies(kReplies, kReadTimeout));

  ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(proxy().port()));
  ASSERT_OK(conn.Send(bytes));
  ASSERT_OK_AND_ASSIGN(const ReadResult through_proxy, conn.ReadReplies(kReplies, kReadTimeout));
  EXPECT_EQ(CountCompleteReplies(from_node.data), kReplies);
  EXPECT_EQ(through_proxy.data, from_node.data);
}

TEST_F(ProxyPubSubTest, PubSubIntrospectionCoversEveryMaster) {
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> channels, NamePerMaster(cluster(), "intro:"));
  auto subscriber = Proxy();
  auto other = Proxy();
  auto client = Proxy();
  ASSERT_NE(subscriber, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_NE(client, nullptr);
  subscriber->Append({"SUBSCRIBE", channels[0], channels[1], channels[2]});
  for (int i = 0; i < 3; ++i) subscriber->GetReply();
  EXPECT_EQ(other->Command({"SUBSCRIBE", channels[0]}).elements.size(), 3u);
  EXPECT_EQ(other->Command({"PSUBSCRIBE", "intro-pattern:*"}).elements.size(), 3u);
  EXPECT_EQ(other->Command({"SSUBSCRIBE", "{intro}:shard"}).elements.size(), 3u);

  EXPECT_EQ(client->Command({"PUBSUB", "NUMSUB", channels[0], channels[1], channels[2], "none"}),
            Arr({Str(channels[0]), Int(2), Str(channels[1]), Int(1), Str(channels[2]), Int(1),
                 Str("none"), Int(0)}));
  Reply listed = client->Command({"PUBSUB", "CHANNELS", "intro:*"});
  ASSERT_EQ(listed.type, Reply::Type::kArray) << listed;
  std::vector<std::string> names;
  for (const Reply& r : listed.elements) names.push_back(r.str);
  std::sort(names.begin(), names.end());
  std::vector<std::string> expected = channels;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
  EXPECT_EQ(client->Command({"PUBSUB", "NUMPAT"}), Int(1));
  EXPECT_EQ(client->Command({"PUBSUB", "SHARDCHANNELS", "{intro}*"}), Arr({Str("{intro}:shard")}));
  EXPECT_EQ(client->Command({"PUBSUB", "SHARDNUMSUB", "{intro}:shard", "{intro}:none"}),
            Arr({Str("{intro}:shard"), Int(1), Str("{intro}:none"), Int(0)}));
}

TEST_F(ProxyPubSubTest, LeavingSubscribedModeReturnsToSharedConnections) {
  auto client = Proxy();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Command({"SUBSCRIBE", "leave"}), Arr({Str("subscribe"), Str("leave"), Int(1)}));
  EXPECT_EQ(client->Command({"UNSUBSCRIBE", "leave"}),
            Arr({Str("unsubscribe"), Str("leave"), Int(0)}));
  EXPECT_EQ(client->Command({"PROXY", "MULTIPLEXING", "STATUS"}), Reply::Status("on"));
  // RESET leaves subscribed mode at once, with no confirmations.
  EXPECT_EQ(client->Command({"SUBSCRIBE", "leave"}), Arr({Str("subscribe"), Str("leave"), Int(1)}));
  EXPECT_EQ(client->Command({"RESET"}), Reply::Status("RESET"));
  EXPECT_EQ(client->Command({"SET", "{leave}:k", "v"}), Reply::Status("OK"));
  auto publisher = Proxy();
  ASSERT_NE(publisher, nullptr);
  EXPECT_TRUE(WaitFor(
      [&] {
        return publisher->Command({"PUBLISH", "leave", "x"}) == Int(0);
      },
      absl::Seconds(5)));
  // UNSUBSCRIBE without subscriptions answers without entering subscribed mode.
  EXPECT_EQ(client->Command({"UNSUBSCRIBE"}), Arr({Str("unsubscribe"), Reply::Nil(), Int(0)}));
  EXPECT_EQ(client->Command({"GET", "{leave}:k"}), Str("v"));
}

TEST_F(ProxyPubSubTest, KeyspaceNotificationsFromEveryMaster) {
  // Keyspace notifications never cross the cluster bus: keyspace and keyevent channels and the
  // patterns that can match them are subscribed on every master.
  for (int node = 0; node < cluster().node_count(); ++node) {
    ASSERT_OK_AND_ASSIGN(auto direct, cluster().Connect(node));
    ASSERT_EQ(direct->Command({"CONFIG", "SET", "notify-keyspace-events", "KEA"}),
              Reply::Status("OK"));
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> keys, NamePerMaster(cluster(), "kev:"));
  auto events = Proxy();
  auto writer = Proxy();
  ASSERT_NE(events, nullptr);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(events->Command({"SUBSCRIBE", "__keyevent@0__:set", "__keyspace@0__:" + keys[1]}),
            Arr({Str("subscribe"), Str("__keyevent@0__:set"), Int(1)}));
  EXPECT_EQ(events->GetReply(), Arr({Str("subscribe"), Str("__keyspace@0__:" + keys[1]), Int(2)}));
  EXPECT_EQ(events->Command({"PSUBSCRIBE", "__keyspace@0__:kev:*"}),
            Arr({Str("psubscribe"), Str("__keyspace@0__:kev:*"), Int(3)}));
  for (const std::string& key : keys) {
    EXPECT_EQ(writer->Command({"SET", key, "v"}), Reply::Status("OK"));
    // A node publishes the keyspace event, then the keyevent one, on one connection.
    if (key == keys[1]) {
      EXPECT_EQ(events->GetReply(),
                Arr({Str("message"), Str("__keyspace@0__:" + key), Str("set")}));
    }
    EXPECT_EQ(events->GetReply(), Arr({Str("pmessage"), Str("__keyspace@0__:kev:*"),
                                       Str("__keyspace@0__:" + key), Str("set")}));
    EXPECT_EQ(events->GetReply(), Arr({Str("message"), Str("__keyevent@0__:set"), Str(key)}));
  }
  EXPECT_EQ(events->Command({"RESET"}), Reply::Status("RESET"));
  for (int node = 0; node < cluster().node_count(); ++node) {
    ASSERT_OK_AND_ASSIGN(auto direct, cluster().Connect(node));
    EXPECT_EQ(direct->Command({"CONFIG", "SET", "notify-keyspace-events", ""}),
              Reply::Status("OK"));
  }
}

TEST_F(ProxyPubSubTest, RedisPyPubSub) {
  const std::string script = absl::StrCat(R"PY(
import time
import redis
r = redis.Redis(host="127.0.0.1", port=)PY",
                                          proxy().port(), R"PY()
p = r.pubsub()
p.subscribe("py:news")
p.psubscribe("py:*")
def next_message():
    deadline = time.time() + 10
    while time.time() < deadline:
        m = p.get_message(timeout=1.0)
        if m is not None:
            return m
    raise SystemExit("no message")
assert next_message()["type"] == "subscribe"
assert next_message()["type"] == "psubscribe"
assert r.publish("py:news", "hello") >= 1
got = sorted([(m["type"], m["data"]) for m in (next_message(), next_message())])
assert got == [("message", b"hello"), ("pmessage", b"hello")], got
p.ping()
pong = next_message()
assert pong["type"] == "pong", pong
p.unsubscribe()
p.punsubscribe()
kinds = sorted(next_message()["type"] for _ in range(2))
assert kinds == ["punsubscribe", "unsubscribe"], kinds
assert r.pubsub_numsub("py:news") == [(b"py:news", 0)]
print("ok")
)PY");
  const std::string path = cluster().work_dir() + "/pubsub.py";
  {
    std::ofstream file(path);
    file << script;
  }
  ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand({"/usr/bin/python3", path},
                                                        cluster().work_dir(), absl::Seconds(60)));
  EXPECT_TRUE(result.Succeeded()) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "ok")) << result.output;
}

TEST_F(ProxyPubSubTest, SubscriberThatDoesNotReadIsDisconnectedWithBoundedMemory) {
  ASSERT_OK_AND_ASSIGN(RawConnection lazy, RawConnection::Connect(proxy().port()));
  ASSERT_OK(lazy.Send(EncodeCommand({"SUBSCRIBE", "flood"})));
  ASSERT_OK_AND_ASSIGN(const ReadResult confirmation, lazy.ReadReplies(1, kReadTimeout));
  ASSERT_EQ(CountCompleteReplies(confirmation.data), 1u);
  const int64_t rss_before = ResidentKb(proxy().pid());
  ASSERT_GT(rss_before, 0);

  // About 200 MB of messages towards a client that reads nothing.
  auto publisher = Proxy();
  ASSERT_NE(publisher, nullptr);
  const std::string payload(64 * 1024, 'x');
  int64_t peak = rss_before;
  bool closed = false;
  for (int batch = 0; batch < 64 && !closed; ++batch) {
    std::vector<Command> commands(50, Command{"PUBLISH", "flood", payload});
    publisher->Pipeline(commands);
    peak = std::max(peak, ResidentKb(proxy().pid()));
    closed = absl::StrContains(proxy().LogText(), "for overcoming of output buffer limits");
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        return absl::StrContains(
            proxy().LogText(),
            "(pubsub) scheduled to be closed ASAP for overcoming of output buffer limits");
      },
      absl::Seconds(20)))
      << "the client should have been closed at 32 MB of unread messages";
  // The proxy held at most Redis's hard limit (32 MB) of messages for that client. (Not under
  // AddressSanitizer, whose quarantine keeps freed memory resident on purpose.)
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(peak - rss_before, 64 * 1024) << "kB; before " << rss_before;
#endif
  // The client sees its connection closed after what was buffered.
  absl::StatusOr<ReadResult> rest = lazy.ReadUntilClosed(absl::Seconds(30));
  EXPECT_OK(rest);
  EXPECT_EQ(publisher->Command({"PING"}), Reply::Status("PONG"));
}

// A cluster of its own: a shard channel's slot moves to another master.
TEST(ProxyShardChannelMoveTest, SlotMoveTellsTheSubscriberAndResubscribingWorks) {
  RedisClusterOptions options;
  options.replicas_per_master = 0;
  ASSERT_OK_AND_ASSIGN(auto cluster, RedisCluster::Start(options));
  ProxyOptions proxy_options;
  proxy_options.seeds = cluster->addresses();
  ASSERT_OK_AND_ASSIGN(auto proxy, ProxyProcess::Start(proxy_options));
  ASSERT_OK_AND_ASSIGN(auto subscriber, proxy->Connect());
  ASSERT_OK_AND_ASSIGN(auto publisher, proxy->Connect());
  const std::string channel = "{moving-channel}";
  EXPECT_EQ(subscriber->Command({"SSUBSCRIBE", channel}),
            Arr({Str("ssubscribe"), Str(channel), Int(1)}));

  const uint16_t slot = KeyHashSlot(channel);
  ASSERT_OK_AND_ASSIGN(const int source, cluster->SlotOwner(slot));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster->Masters());
  const int target = masters[0] != source ? masters[0] : masters[1];
  SlotMigration migration(*cluster, slot, source, target);
  ASSERT_OK(migration.Run());

  // Redis 7 drops the shard channel's subscribers when the slot leaves; the proxy passes that on.
  EXPECT_EQ(subscriber->GetReply(), Arr({Str("sunsubscribe"), Str(channel), Int(0)}));
  EXPECT_EQ(subscriber->Command({"GET", "{moving-channel}:k"}), Reply::Nil());
  // Subscribing again lands on the new owner.
  EXPECT_EQ(subscriber->Command({"SSUBSCRIBE", channel}),
            Arr({Str("ssubscribe"), Str(channel), Int(1)}));
  EXPECT_TRUE(WaitFor(
      [&] {
        return publisher->Command({"SPUBLISH", channel, "after"}) == Int(1);
      },
      absl::Seconds(10)));
  EXPECT_EQ(subscriber->GetReply(), Arr({Str("smessage"), Str(channel), Str("after")}));
}

}  // namespace
}  // namespace slotplane::integration
