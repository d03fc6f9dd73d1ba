// What slotplane-proxy answers itself: the COMMAND family from its own table (the same answers a
// Redis 7.0 node gives), CLIENT about the proxy's own clients across all its worker threads, and
// a clear error naming the command and the reason for every command that has no meaning through
// a proxy.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/integration/child_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/standalone_redis.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.proxy.threads = 3;  // CLIENT LIST and KILL span worker threads
  return options;
}());

using Command = std::vector<std::string>;

class ProxyLocalTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(client_, proxy().Connect());
    ASSERT_OK_AND_ASSIGN(node_, cluster().Connect(0));
  }

  // "k=v k=v\n" lines of CLIENT LIST as maps.
  static std::vector<std::map<std::string, std::string>> ParseClientList(const std::string& text) {
    std::vector<std::map<std::string, std::string>> clients;
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      std::map<std::string, std::string> fields;
      for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
        std::pair<std::string, std::string> kv = absl::StrSplit(field, absl::MaxSplits('=', 1));
        fields.insert(kv);
      }
      clients.push_back(std::move(fields));
    }
    return clients;
  }

  std::unique_ptr<TestClient> client_;
  std::unique_ptr<TestClient> node_;  // a cluster node, for Redis's own answers
};

TEST_F(ProxyLocalTest, CommandInfoAndDocsMatchRedis) {
  // Commands without subcommands: byte-identical answers (Redis orders subcommands by hash).
  for (const char* name : {"get", "set", "mget", "eval", "xreadgroup", "sort", "zadd", "lmpop",
                           "config|get", "object|encoding", "client|list"}) {
    EXPECT_EQ(client_->Command({"COMMAND", "INFO", name}),
              node_->Command({"COMMAND", "INFO", name}))
        << name;
    EXPECT_EQ(client_->Command({"COMMAND", "DOCS", name}),
              node_->Command({"COMMAND", "DOCS", name}))
        << name;
  }
  EXPECT_EQ(client_->Command({"COMMAND", "INFO", "GET", "nosuch", "Set"}),
            node_->Command({"COMMAND", "INFO", "GET", "nosuch", "Set"}));
  EXPECT_EQ(client_->Command({"COMMAND", "DOCS", "nosuch"}), Reply::Array({}));
  // The whole table: every Redis command, plus PROXY.
  const Reply all = client_->Command({"COMMAND"});
  const Reply node_all = node_->Command({"COMMAND"});
  ASSERT_EQ(all.type, Reply::Type::kArray);
  EXPECT_EQ(all.elements.size(), node_all.elements.size() + 1);
  EXPECT_EQ(client_->Command({"COMMAND", "COUNT"}),
            Reply::Integer(static_cast<long long>(node_all.elements.size()) + 1));
  // The whole of COMMAND DOCS nests deeper than hiredis 0.14 parses: read it raw. It holds the
  // same bytes as a node's (subcommands in another order) plus PROXY's entry.
  auto raw_docs = [](uint16_t port) -> std::string {
    absl::StatusOr<RawConnection> conn = RawConnection::Connect(port);
    if (!conn.ok()) return "";
    if (!conn->Send(EncodeCommand({"COMMAND", "DOCS"})).ok()) return "";
    absl::StatusOr<ReadResult> read = conn->ReadReplies(1, absl::Seconds(10));
    return read.ok() ? read->data : "";
  };
  const std::string docs = raw_docs(proxy().port());
  const std::string node_docs = raw_docs(cluster().port(0));
  ASSERT_EQ(CountCompleteReplies(docs), 1u);
  EXPECT_TRUE(absl::StartsWith(docs, absl::StrCat("*", 2 * all.elements.size(), "\r\n")));
  EXPECT_TRUE(absl::StrContains(docs, "$5\r\nproxy\r\n*8\r\n$7\r\nsummary\r\n"));
  EXPECT_GT(docs.size(), node_docs.size());
  EXPECT_LT(docs.size(), node_docs.size() + 300);
  // Redis 7.2's CLIENT SETINFO, which clients send at connect, is known.
  const Reply setinfo = client_->Command({"COMMAND", "INFO", "client|setinfo"});
  ASSERT_EQ(setinfo.elements.size(), 1u);
  EXPECT_EQ(setinfo.elements[0].elements.size(), 10u);
}

TEST_F(ProxyLocalTest, CommandListAndGetKeysMatchRedis) {
  const Reply list = client_->Command({"COMMAND", "LIST"});
  const Reply node_list = node_->Command({"COMMAND", "LIST"});
  std::set<std::string> ours, theirs;
  for (const Reply& r : list.elements) ours.insert(r.str);
  for (const Reply& r : node_list.elements) theirs.insert(r.str);
  for (const std::string& name : theirs) EXPECT_EQ(ours.count(name), 1u) << name;
  EXPECT_EQ(ours.count("proxy"), 1u);
  for (const Command& filter : std::vector<Command>{{"PATTERN", "x*"},
                                                    {"PATTERN", "CONFIG|*"},
                                                    {"ACLCAT", "hyperloglog"},
                                                    {"ACLCAT", "scripting"},
                                                    {"MODULE", "nosuch"}}) {
    Command argv{"COMMAND", "LIST", "FILTERBY", filter[0], filter[1]};
    std::set<std::string> a, b;
    for (const Reply& r : client_->Command(argv).elements) a.insert(r.str);
    for (const Reply& r : node_->Command(argv).elements) b.insert(r.str);
    EXPECT_EQ(a, b) << filter[0] << " " << filter[1];
  }
  for (const Command& argv : std::vector<Command>{
           {"COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"},
           {"COMMAND", "GETKEYS", "EVAL", "return 1", "2", "k1", "k2", "argv1"},
           {"COMMAND", "GETKEYS", "EVAL", "return 1", "0"},
           {"COMMAND", "GETKEYS", "SORT", "list", "BY", "w*", "STORE", "dest"},
           {"COMMAND", "GETKEYS", "XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"},
           {"COMMAND", "GETKEYS", "ZUNIONSTORE", "out", "2", "z1", "z2"},
           {"COMMAND", "GETKEYS", "GET"},
           {"COMMAND", "GETKEYS", "PING"},
           {"COMMAND", "GETKEYS", "NOSUCH", "x"},
           {"COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k"}}) {
    EXPECT_EQ(client_->Command(argv), node_->Command(argv)) << argv[2];
  }
  EXPECT_EQ(client_->Command({"COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"}),
            node_->Command({"COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"}));
}

TEST_F(ProxyLocalTest, ClientNameIdInfo) {
  EXPECT_EQ(client_->Command({"CLIENT", "GETNAME"}), Reply::Nil());
  EXPECT_EQ(client_->Command({"CLIENT", "SETNAME", "local-test"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"CLIENT", "GETNAME"}), Reply::String("local-test"));
  EXPECT_EQ(
      client_->Command({"CLIENT", "SETNAME", "bad name"}),
      Reply::Error("ERR Client names cannot contain spaces, newlines or special characters."));
  const Reply id = client_->Command({"CLIENT", "ID"});
  ASSERT_EQ(id.type, Reply::Type::kInteger);
  EXPECT_EQ(client_->Command({"CLIENT", "SETINFO", "LIB-NAME", "slotplane-test"}),
            Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"CLIENT", "SETINFO", "lib-ver", "1.2.3"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"CLIENT", "SETINFO", "lib-other", "x"}),
            Reply::Error("ERR Unrecognized option 'lib-other'"));
  EXPECT_EQ(client_->Command({"CLIENT", "NO-EVICT", "on"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"CLIENT", "REPLY", "ON"}), Reply::Status("OK"));
  const Reply info = client_->Command({"CLIENT", "INFO"});
  ASSERT_EQ(info.type, Reply::Type::kString) << info;
  const auto fields = ParseClientList(info.str);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].at("id"), absl::StrCat(id.integer));
  EXPECT_EQ(fields[0].at("name"), "local-test");
  EXPECT_EQ(fields[0].at("lib-name"), "slotplane-test");
  EXPECT_EQ(fields[0].at("lib-ver"), "1.2.3");
  EXPECT_EQ(fields[0].at("cmd"), "client|info");
  EXPECT_EQ(fields[0].at("laddr"), absl::StrCat("127.0.0.1:", proxy().port()));
  EXPECT_EQ(fields[0].at("flags"), "e");
}

TEST_F(ProxyLocalTest, ClientListAndKillSpanWorkers) {
  // Enough connections that every worker thread holds some (the kernel spreads them).
  std::vector<std::unique_ptr<TestClient>> others;
  std::vector<long long> ids;
  for (int i = 0; i < 12; ++i) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> c, proxy().Connect());
    ASSERT_EQ(c->Command({"CLIENT", "SETNAME", absl::StrCat("other-", i)}), Reply::Status("OK"));
    ids.push_back(c->Command({"CLIENT", "ID"}).integer);
    others.push_back(std::move(c));
  }
  std::set<long long> threads;
  for (auto& c : others) threads.insert(c->Command({"PROXY", "CLIENT", "THREAD"}).integer);
  ASSERT_GT(threads.size(), 1u) << "all clients on one worker thread";

  const Reply list = client_->Command({"CLIENT", "LIST"});
  ASSERT_EQ(list.type, Reply::Type::kString) << list;
  std::set<std::string> names;
  for (const auto& fields : ParseClientList(list.str)) names.insert(fields.at("name"));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(names.count(absl::StrCat("other-", i)), 1u) << i;
  const Reply by_id = client_->Command(
      {"CLIENT", "LIST", "ID", absl::StrCat(ids[3]), absl::StrCat(ids[7]), "999999"});
  const auto listed = ParseClientList(by_id.str);
  ASSERT_EQ(listed.size(), 2u) << by_id;
  EXPECT_EQ(client_->Command({"CLIENT", "LIST", "TYPE", "pubsub"}), Reply::String(""));
  EXPECT_EQ(client_->Command({"CLIENT", "LIST", "TYPE", "bogus"}),
            Reply::Error("ERR Unknown client type 'bogus'"));

  // KILL by id, on whichever worker holds the client.
  for (int i : {0, 5, 11}) {
    EXPECT_EQ(client_->Command({"CLIENT", "KILL", "ID", absl::StrCat(ids[i])}), Reply::Integer(1));
    EXPECT_EQ(others[i]->Command({"PING"}).type, Reply::Type::kTransportError) << i;
  }
  // Old form, by address.
  const std::string addr =
      ParseClientList(others[2]->Command({"CLIENT", "INFO"}).str)[0].at("addr");
  EXPECT_EQ(client_->Command({"CLIENT", "KILL", addr}), Reply::Status("OK"));
  EXPECT_EQ(others[2]->Command({"PING"}).type, Reply::Type::kTransportError);
  EXPECT_EQ(client_->Command({"CLIENT", "KILL", addr}), Reply::Error("ERR No such client"));
  EXPECT_EQ(client_->Command({"CLIENT", "KILL", "ID", "0"}),
            Reply::Error("ERR client-id should be greater than 0"));
  // SKIPME: the caller survives a KILL that matches everyone...
  const Reply killed = client_->Command({"CLIENT", "KILL", "USER", "default"});
  ASSERT_EQ(killed.type, Reply::Type::kInteger) << killed;
  EXPECT_GE(killed.integer, 8);
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
  for (int i : {1, 3, 4, 6, 7, 8, 9, 10}) {
    EXPECT_EQ(others[i]->Command({"PING"}).type, Reply::Type::kTransportError) << i;
  }
  // ...unless SKIPME no: then it gets its reply, then is closed.
  const long long own = client_->Command({"CLIENT", "ID"}).integer;
  EXPECT_EQ(client_->Command({"CLIENT", "KILL", "ID", absl::StrCat(own), "SKIPME", "no"}),
            Reply::Integer(1));
  EXPECT_EQ(client_->Command({"PING"}).type, Reply::Type::kTransportError);
}

// CLIENT KILL's filter errors in Redis's words and order (the first bad option is reported),
// compared with a cluster node's answer to the same command; nothing is killed by them.
TEST_F(ProxyLocalTest, ClientKillFilterErrorsMatchRedis) {
  for (const Command& argv : std::vector<Command>{
           {"CLIENT", "KILL", "USER", "nosuchuser"},
           {"CLIENT", "KILL", "USER", "nosuchuser", "ID", "abc"},
           {"CLIENT", "KILL", "ID", "abc", "USER", "nosuchuser"},
           {"CLIENT", "KILL", "USER", "nosuchuser", "ID"},
           {"CLIENT", "KILL", "USER", "default", "TYPE"},
           {"CLIENT", "KILL", "ID", "-1"},
           {"CLIENT", "KILL", "TYPE", "bogus"},
           {"CLIENT", "KILL", "SKIPME", "maybe"},
           {"CLIENT", "KILL", "MAXAGE", "10"},
           {"CLIENT", "KILL", "ID", "1", "SKIPME"},
           {"CLIENT", "KILL", "1.2.3.4:5"},
           {"CLIENT", "KILL"},
       }) {
    const Reply expected = node_->Command(argv);
    ASSERT_EQ(expected.type, Reply::Type::kError) << absl::StrJoin(argv, " ");
    EXPECT_EQ(client_->Command(argv), expected) << absl::StrJoin(argv, " ");
  }
  EXPECT_EQ(client_->Command({"CLIENT", "KILL", "USER", "nosuchuser"}),
            Reply::Error("ERR No such user 'nosuchuser'"));
  // An existing user that matches nobody else: 0, as Redis.
  EXPECT_EQ(client_->Command({"CLIENT", "KILL", "USER", "default", "ID", "999999"}),
            Reply::Integer(0));
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
}

// HELLO answers as a standalone Redis master would, with the version of the cluster's nodes
// (the lowest among the masters), the same that INFO shows; pipelined, it keeps its place.
TEST_F(ProxyLocalTest, HelloReportsTheNodesVersion) {
  const Reply node_hello = node_->Command({"HELLO", "2"});
  ASSERT_EQ(node_hello.type, Reply::Type::kArray) << node_hello;
  ASSERT_EQ(node_hello.elements.size(), 14u) << node_hello;
  const Reply hello = client_->Command({"HELLO", "2", "SETNAME", "hello-client"});
  ASSERT_EQ(hello.type, Reply::Type::kArray) << hello;
  ASSERT_EQ(hello.elements.size(), 14u) << hello;
  const long long id = client_->Command({"CLIENT", "ID"}).integer;
  EXPECT_EQ(hello,
            Reply::Array({Reply::String("server"), Reply::String("redis"), Reply::String("version"),
                          node_hello.elements[3], Reply::String("proto"), Reply::Integer(2),
                          Reply::String("id"), Reply::Integer(id), Reply::String("mode"),
                          Reply::String("standalone"), Reply::String("role"),
                          Reply::String("master"), Reply::String("modules"), Reply::Array({})}));
  const Reply info = client_->Command({"INFO", "server"});
  EXPECT_TRUE(absl::StrContains(
      info.str, absl::StrCat("\r\nredis_version:", node_hello.elements[3].str, "\r\n")))
      << info;
  EXPECT_EQ(client_->Command({"CLIENT", "GETNAME"}), Reply::String("hello-client"));
  const std::vector<Reply> replies =
      client_->Pipeline({{"HELLO", "2"}, {"PING"}, {"HELLO", "2"}, {"ECHO", "after"}});
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[0], hello);
  EXPECT_EQ(replies[1], Reply::Status("PONG"));
  EXPECT_EQ(replies[2], hello);
  EXPECT_EQ(replies[3], Reply::String("after"));
}

std::string EncodeCommand(const Command& argv) {
  std::string out = absl::StrCat("*", argv.size(), "\r\n");
  for (const std::string& arg : argv) absl::StrAppend(&out, "$", arg.size(), "\r\n", arg, "\r\n");
  return out;
}

// `commands` pipelined in one write on a new connection to `port`, then ECHO of an end marker:
// every byte that came back before the marker's reply.
absl::StatusOr<std::string> RawSession(uint16_t port, const std::vector<Command>& commands) {
  absl::StatusOr<RawConnection> conn = RawConnection::Connect(port);
  if (!conn.ok()) return conn.status();
  const std::string marker = "$16\r\nend-of-session-7\r\n";
  std::string bytes;
  for (const Command& argv : commands) bytes += EncodeCommand(argv);
  bytes += EncodeCommand({"ECHO", "end-of-session-7"});
  if (absl::Status sent = conn->Send(bytes); !sent.ok()) return sent;
  absl::StatusOr<ReadResult> read = conn->ReadUntil(
      [&](absl::string_view data) { return absl::EndsWith(data, marker); }, absl::Seconds(30));
  if (!read.ok()) return read.status();
  if (!absl::EndsWith(read->data, marker)) {
    return absl::InternalError("connection closed after: " + read->data);
  }
  return read->data.substr(0, read->data.size() - marker.size());
}

// CLIENT REPLY ON|OFF|SKIP: the same bytes as a standalone Redis 7.0 for the same pipelined
// sessions — replies of forwarded, local, rejected and blocking commands dropped or sent as Redis
// does, including a reply that arrives after the mode changed again.
TEST_F(ProxyLocalTest, ClientReplyMatchesStandaloneRedis) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-reply"));
  ASSERT_OK_AND_ASSIGN(StandaloneRedis redis, StartStandaloneRedis(dir));
  const std::string a = "reply:{r}a", list = "reply:{r}list";
  const std::vector<std::vector<Command>> sessions = {
      {{"DEL", a, list}},
      {{"CLIENT", "REPLY", "OFF"},
       {"SET", a, "1"},
       {"GET", a},
       {"PING"},
       {"CLIENT", "REPLY", "ON"},
       {"GET", a}},
      {{"CLIENT", "REPLY", "SKIP"}, {"SET", a, "2"}, {"GET", a}},
      {{"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "ON"}, {"GET", a}},
      {{"CLIENT", "REPLY", "OFF"},
       {"CLIENT", "REPLY", "SKIP"},
       {"GET", a},
       {"CLIENT", "REPLY", "ON"}},
      {{"CLIENT", "REPLY", "SKIP"}, {"NOSUCHCOMMAND"}, {"GET", a}},
      {{"CLIENT", "REPLY", "SKIP"}, {"GET"}, {"INCR", a}},
      {{"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "SKIP"}, {"GET", a}, {"GET", a}},
      {{"CLIENT", "REPLY", "OFF"},
       {"CLIENT", "REPLY", "bogus"},
       {"INCR", a},
       {"CLIENT", "REPLY", "ON"},
       {"GET", a}},
      {{"CLIENT", "REPLY", "bogus"}, {"CLIENT", "REPLY"}, {"CLIENT", "REPLY", "ON"}},
      // A blocking command's late reply follows the mode it ran under.
      {{"CLIENT", "REPLY", "SKIP"}, {"BLPOP", list, "0.05"}, {"GET", a}},
      {{"CLIENT", "REPLY", "OFF"},
       {"BLPOP", list, "0.05"},
       {"CLIENT", "REPLY", "ON"},
       {"RPUSH", list, "x"}},
      // RESET turns replies back on, but a SKIP still drops RESET's own reply.
      {{"CLIENT", "REPLY", "OFF"}, {"RESET"}, {"GET", a}},
      {{"CLIENT", "REPLY", "SKIP"}, {"RESET"}, {"GET", a}},
      {{"DEL", a, list}},
  };
  for (const std::vector<Command>& session : sessions) {
    std::string context;
    for (const Command& argv : session) absl::StrAppend(&context, absl::StrJoin(argv, " "), "; ");
    ASSERT_OK_AND_ASSIGN(const std::string expected, RawSession(redis.port, session));
    ASSERT_OK_AND_ASSIGN(const std::string got, RawSession(proxy().port(), session));
    EXPECT_EQ(got, expected) << context;
  }
  // Not two empty answers: what Redis sends for OFF ... ON and for SKIP.
  ASSERT_OK_AND_ASSIGN(const std::string off_on, RawSession(proxy().port(), sessions[1]));
  EXPECT_EQ(off_on, "+OK\r\n$1\r\n1\r\n");
  ASSERT_OK_AND_ASSIGN(const std::string skip, RawSession(proxy().port(), sessions[2]));
  EXPECT_EQ(skip, "$1\r\n2\r\n");
  // The mode is per connection: others still get every reply.
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
}

// Client-side caching is served (proxy_tracking_test has the rest): Redis's answers.
TEST_F(ProxyLocalTest, ClientTrackingSubcommandsAnswerAsRedis) {
  EXPECT_EQ(client_->Command({"CLIENT", "GETREDIR"}), Reply::Integer(-1));
  EXPECT_EQ(client_->Command({"CLIENT", "TRACKING", "on"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"CLIENT", "CACHING", "yes"}),
            Reply::Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN "
                         "mode."));
  EXPECT_EQ(client_->Command({"CLIENT", "GETREDIR"}), Reply::Integer(0));
  EXPECT_EQ(client_->Command({"CLIENT", "TRACKING", "off"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
}

// CLIENT PAUSE pauses the proxy's clients (on every worker) as Redis pauses its own: WRITE holds
// writes only, ALL everything, until the timeout or CLIENT UNPAUSE.
TEST_F(ProxyLocalTest, ClientPauseHoldsWritesOrEverything) {
  EXPECT_EQ(client_->Command({"CLIENT", "PAUSE", "abc"}),
            Reply::Error("ERR timeout is not an integer or out of range"));
  EXPECT_EQ(client_->Command({"CLIENT", "PAUSE", "-1"}), Reply::Error("ERR timeout is negative"));
  EXPECT_EQ(client_->Command({"CLIENT", "PAUSE", "100", "SOME"}),
            Reply::Error("ERR CLIENT PAUSE mode must be WRITE or ALL"));
  const std::string kSetGet = EncodeCommand({"SET", "pause:k", "1"}) +
                              EncodeCommand({"GET", "pause:k"}) + EncodeCommand({"DEL", "pause:k"});
  const absl::Duration kHeld = absl::Milliseconds(300);

  // WRITE: a write waits, and the client's later commands behind it; reads go on.
  ASSERT_EQ(client_->Command({"CLIENT", "PAUSE", "20000", "WRITE"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(RawConnection writer, RawConnection::Connect(proxy().port()));
  ASSERT_OK(writer.Send(kSetGet));
  EXPECT_FALSE(writer.ReadReplies(1, kHeld).ok()) << "a write ran during CLIENT PAUSE WRITE";
  ASSERT_OK_AND_ASSIGN(auto reader, proxy().Connect());
  EXPECT_EQ(reader->Command({"GET", "pause:other"}), Reply::Nil());
  EXPECT_EQ(reader->Command({"EVAL", "return 1", "0"}), Reply::Integer(1));  // as Redis 7.0
  EXPECT_EQ(reader->Command({"MULTI"}), Reply::Status("OK"));
  EXPECT_EQ(reader->Command({"INCR", "pause:n"}), Reply::Status("QUEUED"));  // EXEC would wait
  EXPECT_EQ(reader->Command({"DISCARD"}), Reply::Status("OK"));
  EXPECT_EQ(client_->Command({"CLIENT", "UNPAUSE"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(ReadResult replies, writer.ReadReplies(3, absl::Seconds(5)));
  EXPECT_EQ(replies.data, "+OK\r\n$1\r\n1\r\n:1\r\n");

  // ALL: every command waits until the pause ends by itself.
  ASSERT_EQ(client_->Command({"CLIENT", "PAUSE", "1500", "ALL"}), Reply::Status("OK"));
  ASSERT_OK_AND_ASSIGN(RawConnection pinger, RawConnection::Connect(proxy().port()));
  ASSERT_OK(pinger.Send(EncodeCommand({"PING"})));
  EXPECT_FALSE(pinger.ReadReplies(1, kHeld).ok()) << "PING ran during CLIENT PAUSE ALL";
  ASSERT_OK_AND_ASSIGN(ReadResult pong, pinger.ReadReplies(1, absl::Seconds(10)));
  EXPECT_EQ(pong.data, "+PONG\r\n");
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
}

TEST_F(ProxyLocalTest, UnsupportedCommandsNameThemselvesAndWhy) {
  const std::map<std::string, Command> cases = {
      {"monitor", {"MONITOR"}},
      {"sync", {"SYNC"}},
      {"psync", {"PSYNC", "?", "-1"}},
      {"replicaof", {"REPLICAOF", "127.0.0.1", "1"}},
      {"slaveof", {"SLAVEOF", "NO", "ONE"}},
      {"debug", {"DEBUG", "SLEEP", "0"}},
      {"shutdown", {"SHUTDOWN", "NOSAVE"}},
      {"move", {"MOVE", "k", "1"}},
      {"swapdb", {"SWAPDB", "0", "1"}},
      {"cluster|failover", {"CLUSTER", "FAILOVER"}},
      {"cluster|addslots", {"CLUSTER", "ADDSLOTS", "1"}},
      {"acl|setuser", {"ACL", "SETUSER", "x"}},
  };
  for (const auto& [name, argv] : cases) {
    const Reply reply = client_->Command(argv);
    ASSERT_EQ(reply.type, Reply::Type::kError) << name;
    EXPECT_TRUE(absl::StartsWith(reply.str, "ERR slotplane does not support '" + name + "': "))
        << reply;
    EXPECT_GT(reply.str.size(), name.size() + 40) << "no reason given: " << reply;
  }
  EXPECT_EQ(client_->Command({"SELECT", "1"}),
            Reply::Error("ERR SELECT is not allowed in cluster mode"));
  EXPECT_EQ(client_->Command({"SELECT", "0"}), Reply::Status("OK"));
  // The cluster's real topology stays readable.
  for (const Command& argv : std::vector<Command>{{"CLUSTER", "INFO"},
                                                  {"CLUSTER", "SLOTS"},
                                                  {"CLUSTER", "SHARDS"},
                                                  {"CLUSTER", "NODES"}}) {
    const Reply reply = client_->Command(argv);
    EXPECT_FALSE(reply.IsError()) << argv[1] << ": " << reply;
  }
  EXPECT_EQ(client_->Command({"CLUSTER", "KEYSLOT", "foo"}), Reply::Integer(12182));
  // PROXY COMMAND UNSUPPORTED lists them, with the reason.
  const Reply listed = client_->Command({"PROXY", "COMMAND", "UNSUPPORTED"});
  ASSERT_EQ(listed.type, Reply::Type::kArray) << listed;
  std::map<std::string, std::string> reasons;
  for (const Reply& row : listed.elements) {
    ASSERT_EQ(row.elements.size(), 7u);
    EXPECT_EQ(row.elements[5], Reply::String("unsupported"));
    reasons[row.elements[0].str] = row.elements[6].str;
  }
  for (const char* name : {"monitor", "sync", "psync", "replicaof", "slaveof", "debug", "shutdown",
                           "move", "swapdb", "cluster|failover"}) {
    EXPECT_FALSE(reasons[name].empty()) << name;
  }
  EXPECT_EQ(reasons.count("get"), 0u);
  const Reply table = client_->Command({"PROXY", "COMMAND"});
  ASSERT_EQ(table.type, Reply::Type::kArray);
  bool found_get = false;
  for (const Reply& row : table.elements) {
    if (row.elements[0].str != "get") continue;
    found_get = true;
    EXPECT_EQ(row, Reply::Array({Reply::String("get"), Reply::Integer(2), Reply::Integer(1),
                                 Reply::Integer(1), Reply::Integer(1), Reply::String("slot")}));
  }
  EXPECT_TRUE(found_get);
  EXPECT_EQ(client_->Command({"PROXY", "COMMAND", "BOGUS"}).type, Reply::Type::kError);
}

}  // namespace
}  // namespace slotplane::integration
