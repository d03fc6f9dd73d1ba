// Client-side caching through slotplane-proxy (CLIENT TRACKING): RESP3 invalidation pushes for keys
// a client read and another client wrote, RESP2 REDIRECT to a client subscribed to
// __redis__:invalidate, BCAST with PREFIX, OPTIN with CLIENT CACHING yes, NOLOOP; invalidations
// still arriving after the key's slot migrated and after its master failed over; the replies of
// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO (errors included) byte-compared with a
// standalone redis-server in both protocols.

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/standalone_redis.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.proxy.threads = 2;  // REDIRECT targets may live on the other worker
  return options;
}());

using Command = std::vector<std::string>;

constexpr absl::Duration kWait = absl::Seconds(20);

// The push Redis sends a RESP3 client for `keys`.
std::string Push(const std::vector<std::string>& keys) {
  std::string out = absl::StrCat(">2\r\n$10\r\ninvalidate\r\n*", keys.size(), "\r\n");
  for (const std::string& key : keys) absl::StrAppend(&out, "$", key.size(), "\r\n", key, "\r\n");
  return out;
}
constexpr char kFlushPush[] = ">2\r\n$10\r\ninvalidate\r\n_\r\n";

// The message a RESP2 REDIRECT target subscribed to __redis__:invalidate gets for `key`.
std::string Message(const std::string& key) {
  return absl::StrCat("*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$", key.size(),
                      "\r\n", key, "\r\n");
}

// A raw connection that remembers everything it received, for waiting on pushes that may come at
// any time.
class Conn {
 public:
  static absl::StatusOr<Conn> Open(uint16_t port) {
    absl::StatusOr<RawConnection> raw = RawConnection::Connect(port);
    if (!raw.ok()) return raw.status();
    return Conn(*std::move(raw));
  }

  // Sends `commands` pipelined, then an ECHO marker; returns what came back before the marker.
  absl::StatusOr<std::string> Run(const std::vector<Command>& commands) {
    const std::string marker = absl::StrCat("end-of-run-", ++runs_);
    std::string bytes;
    for (const Command& argv : commands) bytes += EncodeCommand(argv);
    bytes += EncodeCommand({"ECHO", marker});
    if (absl::Status sent = raw_.Send(bytes); !sent.ok()) return sent;
    const std::string tail = absl::StrCat("$", marker.size(), "\r\n", marker, "\r\n");
    const size_t from = seen_.size();
    run_start_ = from;
    if (absl::Status s = WaitFor(tail, kWait, from); !s.ok()) return s;
    const size_t end = seen_.find(tail, from);
    std::string out = seen_.substr(from, end - from);
    seen_.erase(end, tail.size());  // pushes may follow; the marker is not one of them
    return out;
  }

  // Sends `commands` pipelined without waiting (a subscribed RESP2 connection cannot ECHO).
  absl::Status Send(const std::vector<Command>& commands) {
    std::string bytes;
    for (const Command& argv : commands) bytes += EncodeCommand(argv);
    return raw_.Send(bytes);
  }

  // Reads until `needle` was received after position `from` (default: since the last Run began,
  // since pushes may come before or after its replies).
  absl::Status WaitFor(const std::string& needle, absl::Duration timeout, size_t from = npos) {
    if (from == npos) from = run_start_;
    if (seen_.find(needle, from) != std::string::npos) return absl::OkStatus();
    absl::StatusOr<ReadResult> read = raw_.ReadUntil(
        [&](absl::string_view data) {
          return (seen_ + std::string(data)).find(needle, from) != std::string::npos;
        },
        timeout);
    if (!read.ok()) return read.status();
    seen_ += read->data;
    if (seen_.find(needle, from) == std::string::npos) {
      return absl::DeadlineExceededError(
          absl::StrCat("no ", absl::CEscape(needle), " in: ", absl::CEscape(seen_.substr(from))));
    }
    return absl::OkStatus();
  }

  // Everything received since the last Run began (or Consume).
  std::string Since() const { return seen_.substr(run_start_); }
  void Consume() { run_start_ = seen_.size(); }

  static constexpr size_t npos = std::string::npos;

 private:
  explicit Conn(RawConnection raw) : raw_(std::move(raw)) {}
  RawConnection raw_;
  std::string seen_;
  size_t run_start_ = 0;
  int runs_ = 0;
};

int64_t ClientId(Conn& conn) {
  absl::StatusOr<std::string> reply = conn.Run({{"CLIENT", "ID"}});
  int64_t id = -1;
  if (reply.ok() && absl::StartsWith(*reply, ":")) {
    (void)absl::SimpleAtoi(reply->substr(1, reply->size() - 3), &id);
  }
  return id;
}

class ProxyTrackingTest : public SharedClusterTest {
 protected:
  // The keys a test reads start missing (the cluster is shared, and tests may repeat).
  void Delete(const std::vector<std::string>& keys) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> writer, proxy().Connect());
    for (const std::string& key : keys) EXPECT_FALSE(writer->Command({"DEL", key}).IsError());
  }
  void Write(const std::string& key, const std::string& value = "v") {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> writer, proxy().Connect());
    EXPECT_EQ(writer->Command({"SET", key, value}), Reply::Status("OK"));
  }
};

TEST_F(ProxyTrackingTest, Resp3ReaderGetsPushWhenAnotherClientWrites) {
  Delete({"trk:a"});
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}}).status());
  ASSERT_OK_AND_ASSIGN(std::string replies,
                       reader.Run({{"CLIENT", "TRACKING", "on"}, {"GET", "trk:a"}}));
  EXPECT_EQ(replies, "+OK\r\n_\r\n");
  Write("trk:a");
  ASSERT_OK(reader.WaitFor(Push({"trk:a"}), kWait));
  // Forgotten once invalidated: a second write sends nothing until the key is read again.
  reader.Consume();
  Write("trk:a", "w");
  ASSERT_OK_AND_ASSIGN(replies, reader.Run({{"GET", "trk:a"}}));
  EXPECT_EQ(replies, "$1\r\nw\r\n");
  Write("trk:a", "x");
  ASSERT_OK(reader.WaitFor(Push({"trk:a"}), kWait));
  // Its own write is reported too (no NOLOOP), as by Redis.
  ASSERT_OK(reader.Run({{"GET", "trk:a"}, {"SET", "trk:a", "y"}}).status());
  ASSERT_OK(reader.WaitFor(Push({"trk:a"}), kWait));
  // Off: no more pushes.
  ASSERT_OK_AND_ASSIGN(replies, reader.Run({{"CLIENT", "TRACKING", "off"}, {"GET", "trk:a"}}));
  EXPECT_EQ(replies, "+OK\r\n$1\r\ny\r\n");
  Write("trk:a");
  ASSERT_OK_AND_ASSIGN(replies, reader.Run({{"PING"}}));
  EXPECT_EQ(replies, "+PONG\r\n");
}

TEST_F(ProxyTrackingTest, Resp2RedirectTargetGetsInvalidateMessages) {
  // Several targets, so that with two workers some live on the reader's worker and some not.
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(round);
    ASSERT_OK_AND_ASSIGN(Conn target, Conn::Open(proxy().port()));
    const int64_t id = ClientId(target);
    ASSERT_GT(id, 0);
    ASSERT_OK(target.Send({{"SUBSCRIBE", "__redis__:invalidate"}}));
    ASSERT_OK(
        target.WaitFor("*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n", kWait));
    ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
    const std::string key = absl::StrCat("trk:redir:", round);
    Delete({key});
    ASSERT_OK_AND_ASSIGN(std::string replies,
                         reader.Run({{"CLIENT", "TRACKING", "on", "REDIRECT", std::to_string(id)},
                                     {"CLIENT", "GETREDIR"},
                                     {"GET", key}}));
    EXPECT_EQ(replies, absl::StrCat("+OK\r\n:", id, "\r\n$-1\r\n"));
    Write(key);
    ASSERT_OK(target.WaitFor(Message(key), kWait, 0));
  }
}

TEST_F(ProxyTrackingTest, RedirectToMissingClientIsRefusedAsRedis) {
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
  ASSERT_OK_AND_ASSIGN(std::string replies,
                       reader.Run({{"CLIENT", "TRACKING", "on", "REDIRECT", "999999999"},
                                   {"CLIENT", "TRACKING", "on", "REDIRECT", "999999999", "foo"},
                                   {"CLIENT", "GETREDIR"}}));
  EXPECT_EQ(replies,
            "-ERR The client ID you want redirect to does not exist\r\n"
            "-ERR The client ID you want redirect to does not exist\r\n:-1\r\n");
}

TEST_F(ProxyTrackingTest, BroadcastWithPrefix) {
  Delete({"{bc}other:1", "{bc}user:1"});
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}}).status());
  ASSERT_OK_AND_ASSIGN(std::string replies,
                       reader.Run({{"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "{bc}user:"}}));
  EXPECT_EQ(replies, "+OK\r\n");
  // Nothing read: BCAST reports every write of a matching key. One slot, so one node's order.
  Write("{bc}other:1");
  Write("{bc}user:1");
  ASSERT_OK(reader.WaitFor(Push({"{bc}user:1"}), kWait));
  EXPECT_FALSE(absl::StrContains(reader.Since(), "other")) << absl::CEscape(reader.Since());
}

TEST_F(ProxyTrackingTest, OptinCachesOnlyAfterCachingYes) {
  Delete({"{oi}a", "{oi}b", "{oi}c"});
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}}).status());
  ASSERT_OK_AND_ASSIGN(std::string replies, reader.Run({{"CLIENT", "TRACKING", "on", "OPTIN"},
                                                        {"GET", "{oi}a"},
                                                        {"CLIENT", "CACHING", "yes"},
                                                        {"GET", "{oi}b"},
                                                        {"GET", "{oi}c"}}));
  EXPECT_EQ(replies, "+OK\r\n_\r\n+OK\r\n_\r\n_\r\n");
  Write("{oi}a");
  Write("{oi}c");
  Write("{oi}b");
  ASSERT_OK(reader.WaitFor(Push({"{oi}b"}), kWait));
  EXPECT_FALSE(absl::StrContains(reader.Since(), "{oi}a")) << absl::CEscape(reader.Since());
  EXPECT_FALSE(absl::StrContains(reader.Since(), "{oi}c")) << absl::CEscape(reader.Since());
}

TEST_F(ProxyTrackingTest, NoloopSkipsTheClientsOwnWrites) {
  Delete({"{nl}mine", "{nl}theirs"});
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}}).status());
  ASSERT_OK_AND_ASSIGN(std::string replies, reader.Run({{"CLIENT", "TRACKING", "on", "NOLOOP"},
                                                        {"GET", "{nl}mine"},
                                                        {"GET", "{nl}theirs"},
                                                        {"SET", "{nl}mine", "1"}}));
  EXPECT_EQ(replies, "+OK\r\n_\r\n_\r\n+OK\r\n");
  Write("{nl}theirs");
  ASSERT_OK(reader.WaitFor(Push({"{nl}theirs"}), kWait));
  EXPECT_FALSE(absl::StrContains(reader.Since(), "mine")) << absl::CEscape(reader.Since());
}

// tracking-table-max-keys bounds the proxy's table as Redis bounds its own: past it, keys are
// evicted and their readers told to drop them (the option is shared by the workers: 4 over 2
// workers leaves 2 keys to each).
TEST_F(ProxyTrackingTest, TableBoundedByTrackingTableMaxKeys) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> admin, proxy().Connect());
  ASSERT_EQ(admin->Command({"PROXY", "CONFIG", "SET", "tracking-table-max-keys", "4"}),
            Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}, {"CLIENT", "TRACKING", "on"}}).status());
  ASSERT_OK(reader
                .Run({{"GET", "{tm}a"},
                      {"GET", "{tm}b"},
                      {"GET", "{tm}c"},
                      {"GET", "{tm}d"},
                      {"GET", "{tm}e"}})
                .status());
  const std::string seen = reader.Since();
  size_t evicted = 0;
  for (size_t at = seen.find(">2\r\n$10\r\ninvalidate\r\n*1\r\n"); at != std::string::npos;
       at = seen.find(">2\r\n$10\r\ninvalidate\r\n*1\r\n", at + 1)) {
    ++evicted;
  }
  EXPECT_GE(evicted, 3u) << absl::CEscape(seen);
  EXPECT_EQ(admin->Command({"PROXY", "CONFIG", "SET", "tracking-table-max-keys", "1000000"}),
            Reply::Status("OK"));
  EXPECT_EQ(admin->Command({"PROXY", "CONFIG", "SET", "tracking-table-max-keys", "0"}).type,
            Reply::Type::kError);
}

// FLUSHALL: every node reports a null invalidation, which reaches the reader as Redis's "drop
// everything" push.
TEST_F(ProxyTrackingTest, FlushallInvalidatesEverything) {
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy().port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}, {"CLIENT", "TRACKING", "on"}, {"GET", "trk:f"}}).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> writer, proxy().Connect());
  EXPECT_EQ(writer->Command({"FLUSHALL"}), Reply::Status("OK"));
  ASSERT_OK(reader.WaitFor(kFlushPush, kWait));
}

// The replies of the tracking subcommands, errors included, byte for byte as a standalone Redis.
TEST_F(ProxyTrackingTest, SubcommandRepliesMatchRedis) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-tracking"));
  ASSERT_OK_AND_ASSIGN(StandaloneRedis redis, StartStandaloneRedis(dir));
  Delete({"trk:info"});
  const std::vector<Command> session = {
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "GETREDIR"},
      {"CLIENT", "CACHING", "yes"},
      {"CLIENT", "TRACKING", "on", "PREFIX", "a"},
      {"CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"},
      {"CLIENT", "TRACKING", "on", "BCAST", "OPTIN"},
      {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"},
      {"CLIENT", "TRACKING", "on", "REDIRECT", "x"},
      {"CLIENT", "TRACKING", "maybe"},
      {"CLIENT", "TRACKING", "on", "foo"},
      {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "GETREDIR"},
      {"CLIENT", "TRACKING", "on", "OPTIN"},
      {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab"},
      {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "off"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "on", "BCAST"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "off"},
      {"CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP"},
      {"CLIENT", "CACHING", "no"},
      {"CLIENT", "CACHING", "maybe"},
      {"CLIENT", "CACHING", "yes"},
      {"CLIENT", "TRACKINGINFO"},
      {"GET", "trk:info"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "TRACKING", "on", "OPTOUT"},
      {"CLIENT", "TRACKING", "off"},
      {"CLIENT", "TRACKING", "on", "OPTOUT"},
      {"CLIENT", "CACHING", "no"},
      {"CLIENT", "TRACKINGINFO"},
      {"CLIENT", "GETREDIR"},
      {"CLIENT", "TRACKING", "off"},
  };
  for (bool resp3 : {false, true}) {
    SCOPED_TRACE(resp3 ? "RESP3" : "RESP2");
    std::vector<Command> commands = session;
    if (resp3) commands.insert(commands.begin(), {"HELLO", "3"});
    ASSERT_OK_AND_ASSIGN(Conn direct, Conn::Open(redis.port));
    ASSERT_OK_AND_ASSIGN(Conn proxied, Conn::Open(proxy().port()));
    ASSERT_OK_AND_ASSIGN(std::string expected, direct.Run(commands));
    ASSERT_OK_AND_ASSIGN(std::string actual, proxied.Run(commands));
    if (resp3) {  // HELLO's map differs (id, mode, version): compare what follows it
      static const std::regex kHello(
          "^%7\r\n(\\$[0-9]+\r\n[^\r]*\r\n(:[0-9]+\r\n|\\$[0-9]+\r\n[^\r]*\r\n|\\*0\r\n)){7}");
      expected = std::regex_replace(expected, kHello, "");
      actual = std::regex_replace(actual, kHello, "");
    }
    EXPECT_EQ(absl::CEscape(actual), absl::CEscape(expected));
  }
}

// Clusters of their own: these move slots and kill masters.
class ProxyTrackingClusterTest : public ::testing::Test {
 protected:
  void StartCluster(int replicas) {
    RedisClusterOptions options;
    options.node_timeout = absl::Milliseconds(1000);
    options.replicas_per_master = replicas;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
    ProxyOptions proxy_options;
    proxy_options.seeds = cluster_->addresses();
    proxy_options.threads = 1;
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(proxy_options));
  }

  // Until `reader` gets a push for `key` after another client wrote it: reads `key` (tracking it
  // again), writes it from another client, waits a little for the push; again until the deadline.
  // A flush push instead (a link that came up late) means the reader must read again.
  absl::Status ReadWriteUntilPushed(Conn& reader, const std::string& key) {
    return WaitForOk(
        [&]() -> absl::Status {
          absl::StatusOr<std::string> read = reader.Run({{"GET", key}});
          if (!read.ok()) return read.status();
          absl::StatusOr<std::unique_ptr<TestClient>> writer = proxy_->Connect();
          if (!writer.ok()) return writer.status();
          Reply set = (*writer)->Command({"SET", key, "v"});
          if (set != Reply::Status("OK")) return absl::UnavailableError(set.DebugString());
          return reader.WaitFor(Push({key}), absl::Seconds(2));
        },
        absl::Seconds(60));
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyTrackingClusterTest, InvalidationsFollowASlotMigration) {
  StartCluster(0);
  const std::string key = KeyInSlot(1000, "trk:mig");
  ASSERT_OK_AND_ASSIGN(int source, cluster_->SlotOwner(1000));
  ASSERT_OK_AND_ASSIGN(std::vector<int> masters, cluster_->Masters());
  const int target = masters[0] == source ? masters[1] : masters[0];
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy_->port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}, {"CLIENT", "TRACKING", "on"}}).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> writer, proxy_->Connect());
  ASSERT_EQ(writer->Command({"SET", key, "before"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(std::string replies, reader.Run({{"GET", key}}));
  EXPECT_EQ(replies, "$6\r\nbefore\r\n");
  // MIGRATE deletes the key on the source: the reader's copy is invalid.
  SlotMigration migration(*cluster_, 1000, source, target);
  ASSERT_OK(migration.Run());
  ASSERT_OK(reader.WaitFor(Push({key}), kWait));
  // On its new owner the key is read and written through the proxy (MOVED followed) and the
  // new owner's invalidation arrives.
  reader.Consume();
  ASSERT_OK(ReadWriteUntilPushed(reader, key));
}

TEST_F(ProxyTrackingClusterTest, InvalidationsAfterAMasterFailover) {
  StartCluster(1);
  const std::string key = KeyInSlot(2000, "trk:fo");
  ASSERT_OK_AND_ASSIGN(int owner, cluster_->SlotOwner(2000));
  ASSERT_OK_AND_ASSIGN(Conn reader, Conn::Open(proxy_->port()));
  ASSERT_OK(reader.Run({{"HELLO", "3"}, {"CLIENT", "TRACKING", "on"}}).status());
  ASSERT_OK_AND_ASSIGN(std::string replies, reader.Run({{"GET", key}}));
  EXPECT_EQ(replies, "_\r\n");
  ASSERT_OK(cluster_->KillNode(owner));
  // The link to the dead master is lost: everything the reader cached is invalid.
  ASSERT_OK(reader.WaitFor(kFlushPush, kWait));
  ASSERT_OK(cluster_->WaitForFailover(2000, owner));
  reader.Consume();
  ASSERT_OK(ReadWriteUntilPushed(reader, key));
}

}  // namespace
}  // namespace slotplane::integration
