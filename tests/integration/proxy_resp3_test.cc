// RESP3 through slotplane-proxy: HELLO 3 (and back to 2), replies passed through from the nodes'
// RESP3 connections, proxy-local and merged replies in the client's protocol, pub/sub push frames,
// RESP2 and RESP3 clients pipelining on one worker at once, and redis-cli -3. Every byte is
// compared with what a standalone redis-server (the same Redis build as the cluster's nodes)
// answers to the same pipelined session, except the HELLO reply's client id.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/child_process.h"
#include "tests/integration/shared_cluster.h"
#include "tests/integration/standalone_redis.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  options.proxy.threads = 1;  // RESP2 and RESP3 clients share one worker's backend connections
  options.proxy.extra_args = {"--enable-cross-slot", "yes"};  // merged MGET
  return options;
}());

using Command = std::vector<std::string>;

constexpr char kMarker[] = "$16\r\nend-of-session-3\r\n";

// `commands` pipelined in one write on `conn`, then ECHO of an end marker: every byte that came
// back before the marker's reply (the marker's bulk string is the same in both protocols).
absl::StatusOr<std::string> RunPipelined(RawConnection& conn,
                                         const std::vector<Command>& commands) {
  std::string bytes;
  for (const Command& argv : commands) bytes += EncodeCommand(argv);
  bytes += EncodeCommand({"ECHO", "end-of-session-3"});
  if (absl::Status sent = conn.Send(bytes); !sent.ok()) return sent;
  absl::StatusOr<ReadResult> read = conn.ReadUntil(
      [&](absl::string_view data) { return absl::EndsWith(data, kMarker); }, absl::Seconds(30));
  if (!read.ok()) return read.status();
  if (!absl::EndsWith(read->data, kMarker)) {
    return absl::InternalError("connection closed or timed out after: " + read->data);
  }
  return read->data.substr(0, read->data.size() - std::string(kMarker).size());
}

absl::StatusOr<std::string> RawSession(uint16_t port, const std::vector<Command>& commands) {
  absl::StatusOr<RawConnection> conn = RawConnection::Connect(port);
  if (!conn.ok()) return conn.status();
  return RunPipelined(*conn, commands);
}

// HELLO's id field differs by nature (each server numbers its own clients).
std::string WithoutClientIds(const std::string& bytes) {
  static const std::regex kId("\\$2\r\nid\r\n:[0-9]+\r\n");
  return std::regex_replace(bytes, kId, "$$2\r\nid\r\n:<id>\r\n");  // "$$": one '$'
}

// One RESP3 value, parsed just enough to put reordered lists back in one order (below).
struct Value {
  char kind = 0;
  std::string head;             // the rest of the first line: a count, length or simple value
  std::string body;             // a bulk, verbatim or blob error's bytes
  std::vector<Value> children;  // an aggregate's elements; a map's keys and values flattened
};

// Parses the value at `*pos` of `data`; false if it is incomplete or malformed.
bool ParseValue(absl::string_view data, size_t* pos, Value* out) {
  const size_t eol = data.find("\r\n", *pos);
  if (eol == absl::string_view::npos || eol == *pos) return false;
  out->kind = data[*pos];
  out->head = std::string(data.substr(*pos + 1, eol - *pos - 1));
  *pos = eol + 2;
  long long n = 0;
  switch (out->kind) {
    case '$':
    case '=':
    case '!':
      if (!absl::SimpleAtoi(out->head, &n)) return false;
      if (n < 0) return true;
      if (*pos + n + 2 > data.size()) return false;
      out->body = std::string(data.substr(*pos, n));
      *pos += n + 2;
      return true;
    case '*':
    case '~':
    case '%':
    case '>':
      if (!absl::SimpleAtoi(out->head, &n)) return false;
      if (out->kind == '%') n *= 2;
      for (long long i = 0; i < n; ++i) {
        out->children.emplace_back();
        if (!ParseValue(data, pos, &out->children.back())) return false;
      }
      return true;
    default:
      return true;
  }
}

std::string Encode(const Value& v) {
  if (v.kind == '*' || v.kind == '~' || v.kind == '%' || v.kind == '>') {
    std::string out = absl::StrCat(
        std::string(1, v.kind), v.kind == '%' ? v.children.size() / 2 : v.children.size(), "\r\n");
    for (const Value& child : v.children) out += Encode(child);
    return out;
  }
  if (v.kind == '$' && v.head != "-1") return absl::StrCat("$", v.head, "\r\n", v.body, "\r\n");
  if ((v.kind == '=' || v.kind == '!'))
    return absl::StrCat(std::string(1, v.kind), v.head, "\r\n", v.body, "\r\n");
  return absl::StrCat(std::string(1, v.kind), v.head, "\r\n");
}

// Redis lists commands and subcommands in hash-table order, which differs between servers (the
// proxy sorts them by name). Puts every list of COMMAND INFO entries (an aggregate of arrays) and
// every map of COMMAND DOCS values (a map whose values are maps; in RESP2 a flat array of names
// and arrays) in name order, drops the top-level entry named `drop`, and re-encodes: two
// canonical forms are equal iff the replies hold the same bytes per entry. Other lists of arrays
// (key specs, arguments, history) get sorted too: a harmless weakening, they are checked byte
// for byte per command above.
std::string Canonical(const Value& v, absl::string_view drop) {
  const std::vector<Value>& c = v.children;
  const bool aggregate = v.kind == '*' || v.kind == '~' || v.kind == '%';
  if (!aggregate) return Encode(v);
  bool pairs_of_lists = !c.empty() && c.size() % 2 == 0;  // name -> docs value
  for (size_t i = 0; i + 1 < c.size(); i += 2) {
    pairs_of_lists =
        pairs_of_lists && c[i].kind == '$' && (c[i + 1].kind == '*' || c[i + 1].kind == '%');
  }
  if (v.kind == '%' || (v.kind == '*' && pairs_of_lists)) {
    std::vector<std::string> pairs;
    for (size_t i = 0; i + 1 < c.size(); i += 2) {
      if (!drop.empty() && c[i].body == drop) continue;
      pairs.push_back(Encode(c[i]) + Canonical(c[i + 1], ""));
    }
    if (pairs_of_lists) std::sort(pairs.begin(), pairs.end());
    const size_t count = v.kind == '%' ? pairs.size() : 2 * pairs.size();
    return absl::StrCat(std::string(1, v.kind), count, "\r\n", absl::StrJoin(pairs, ""));
  }
  bool arrays = !c.empty();
  for (const Value& e : c) arrays = arrays && e.kind == '*';
  std::vector<std::string> elements;
  for (const Value& e : c) {
    if (!drop.empty() && !e.children.empty() && e.children[0].body == drop) continue;
    elements.push_back(Canonical(e, ""));
  }
  if (arrays) std::sort(elements.begin(), elements.end());
  return absl::StrCat(std::string(1, v.kind), elements.size(), "\r\n", absl::StrJoin(elements, ""));
}

// The canonical form of the one reply in `bytes`, without the top-level entry `drop`.
std::string CanonicalReply(absl::string_view bytes, absl::string_view drop) {
  Value v;
  size_t pos = 0;
  if (!ParseValue(bytes, &pos, &v) || pos != bytes.size())
    return "unparsable: " + std::string(bytes);
  return Canonical(v, drop);
}

class ProxyResp3Test : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("slotplane-resp3"));
    dir_.emplace(std::move(dir));
    ASSERT_OK_AND_ASSIGN(StandaloneRedis redis, StartStandaloneRedis(*dir_));
    redis_ = std::move(redis);
  }

  // Runs each session on a new connection to the proxy and to the standalone server and expects
  // the same bytes (client ids aside). Returns everything the proxy answered, for checks that
  // the comparison covered what it claims.
  std::string ExpectSameAsStandalone(const std::vector<std::vector<Command>>& sessions) {
    std::string all;
    for (const std::vector<Command>& session : sessions) {
      std::string context;
      for (const Command& argv : session) absl::StrAppend(&context, absl::StrJoin(argv, " "), "; ");
      absl::StatusOr<std::string> expected = RawSession(redis_.port, session);
      absl::StatusOr<std::string> got = RawSession(proxy().port(), session);
      EXPECT_TRUE(expected.ok() && got.ok()) << context << expected.status() << got.status();
      if (!expected.ok() || !got.ok()) continue;
      EXPECT_EQ(WithoutClientIds(*got), WithoutClientIds(*expected)) << context;
      all += *got;
    }
    return all;
  }

  std::optional<TempDir> dir_;  // before redis_: removed after the server stopped
  StandaloneRedis redis_;
};

TEST_F(ProxyResp3Test, HelloMatchesStandalone) {
  ExpectSameAsStandalone({
      {{"HELLO", "3"}},
      {{"HELLO", "3", "SETNAME", "resp3-client"}, {"CLIENT", "GETNAME"}, {"HELLO"}},
      {{"HELLO", "3"}, {"HELLO", "2"}, {"HELLO"}},
      {{"HELLO", "4"}, {"HELLO", "abc"}, {"HELLO", "3", "BOGUS"}, {"PING"}},
      {{"HELLO", "3", "AUTH", "default", "wrong"}, {"HELLO"}},
  });
  // The id is the proxy's own client id, and the map has Redis 7.0's fields in its order.
  ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy().port()));
  ASSERT_OK_AND_ASSIGN(const std::string hello, RunPipelined(raw, {{"HELLO", "3"}}));
  ASSERT_OK_AND_ASSIGN(const std::string id, RunPipelined(raw, {{"CLIENT", "ID"}}));
  ASSERT_EQ(id[0], ':') << id;
  EXPECT_TRUE(absl::StrContains(hello, absl::StrCat("$2\r\nid\r\n", id))) << hello;
  const std::regex shape(
      "%7\r\n\\$6\r\nserver\r\n\\$5\r\nredis\r\n\\$7\r\nversion\r\n\\$[0-9]+\r\n[0-9.]+\r\n"
      "\\$5\r\nproto\r\n:3\r\n\\$2\r\nid\r\n:[0-9]+\r\n\\$4\r\nmode\r\n\\$10\r\nstandalone\r\n"
      "\\$4\r\nrole\r\n\\$6\r\nmaster\r\n\\$7\r\nmodules\r\n\\*0\r\n");
  EXPECT_TRUE(std::regex_match(hello, shape)) << hello;
}

// Replies of the nodes' RESP3 connections pass through: maps, sets, doubles, nulls, errors.
TEST_F(ProxyResp3Test, ForwardedRepliesMatchStandalone) {
  const std::string k = "r3:{a}k", h = "r3:{a}h", z = "r3:{a}z", s = "r3:{a}s", l = "r3:{a}l";
  const Command cleanup = {"DEL", k, h, z, s, l};
  const std::string got = ExpectSameAsStandalone({
      {{"HELLO", "3"},
       cleanup,
       {"SET", k, "v"},
       {"GET", k},
       {"GET", "r3:{a}missing"},
       {"HSET", h, "a", "1", "b", "2"},
       {"HGETALL", h},
       {"HGETALL", "r3:{a}missing"},
       {"ZADD", z, "1.5", "m", "-inf", "n"},
       {"ZSCORE", z, "m"},
       {"ZSCORE", z, "n"},
       {"ZSCORE", z, "nosuch"},
       {"ZRANGE", z, "0", "-1", "WITHSCORES"},
       {"SADD", s, "x"},
       {"SMEMBERS", s},
       {"SISMEMBER", s, "x"},
       {"INCR", k},
       {"LPUSH", k, "x"},
       {"MGET", k, "r3:{a}missing"},
       {"TTL", k},
       {"EXISTS", k},
       {"OBJECT", "ENCODING", "r3:{a}missing"},
       {"XREAD", "STREAMS", "r3:{a}nostream", "0"},
       {"BLPOP", l, "0.01"},
       {"MULTI"},
       {"GET", k},
       {"GET", "r3:{a}missing"},
       {"EXEC"},
       cleanup},
      // Back to RESP2 on the same connection, then RESET (RESP2 again).
      {{"HELLO", "3"},
       {"GET", "r3:{a}missing"},
       {"HELLO", "2"},
       {"GET", "r3:{a}missing"},
       {"HELLO", "3"},
       {"RESET"},
       {"GET", "r3:{a}missing"},
       {"BLPOP", l, "0.01"}},
  });
  // RESP3's own types were compared, not only frames RESP2 shares.
  for (const char* frame : {"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", ",1.5\r\n",
                            ",-inf\r\n", "~1\r\n$1\r\nx\r\n", "_\r\n", "*-1\r\n", "$-1\r\n",
                            "-WRONGTYPE", "*2\r\n$1\r\nv\r\n_\r\n"}) {
    EXPECT_TRUE(absl::StrContains(got, frame)) << frame << " not in " << got;
  }
}

// A RESP3 client's split and fan-out commands keep their place among its other commands: each
// must see what the commands before it wrote, and none after it, as on one Redis (their parts go
// on the same per-node connections as the client's keyed commands).
TEST_F(ProxyResp3Test, PipelinedSplitAndFanOutCommandsKeepTheirPlace) {
  const std::string a = "r3o:a", b = "r3o:b", c = "r3o:c";  // three slots on two masters
  std::vector<Command> session = {{"HELLO", "3"}, {"DEL", a, b, c}};
  for (int round = 0; round < 40; ++round) {
    const std::string v = absl::StrCat(round);
    for (const Command& argv : std::vector<Command>{{"SET", a, v},
                                                    {"KEYS", "r3o:a"},
                                                    {"MSET", b, v, c, v},
                                                    {"EXISTS", a, b, c},
                                                    {"MGET", a, b, c},
                                                    {"DEL", a},
                                                    {"GET", a},
                                                    {"KEYS", "r3o:a"},
                                                    {"DEL", a, b, c},
                                                    {"EXISTS", a, b, c},
                                                    {"GET", b}}) {
      session.push_back(argv);
    }
  }
  const std::string got = ExpectSameAsStandalone({session});
  EXPECT_TRUE(absl::StrContains(got, "*3\r\n$1\r\n0\r\n$1\r\n0\r\n$1\r\n0\r\n")) << got;
}

// What the proxy writes itself, or merges, comes in the client's protocol.
TEST_F(ProxyResp3Test, LocalAndMergedRepliesMatchStandalone) {
  const std::string got = ExpectSameAsStandalone({
      {{"HELLO", "3"},
       {"CLIENT", "GETNAME"},
       {"COMMAND", "INFO", "nosuchcommand"},
       {"CONFIG", "GET", "maxmemory"},
       {"LATENCY", "HISTOGRAM", "nosuchcommand"},
       {"PING"},
       {"PING", "x"},
       {"ECHO", "y"},
       // Split over several slots and merged (enable-cross-slot).
       {"MSET", "r3:{b}1", "1", "r3:{c}2", "2"},
       {"MGET", "r3:{b}1", "r3:{nil}x", "r3:{c}2", "r3:{nil}y"},
       {"DEL", "r3:{b}1", "r3:{c}2"}},
  });
  for (const char* frame :
       {"%1\r\n$9\r\nmaxmemory\r\n", "*1\r\n_\r\n", "*4\r\n$1\r\n1\r\n_\r\n$1\r\n2\r\n_\r\n"}) {
    EXPECT_TRUE(absl::StrContains(got, frame)) << frame << " not in " << got;
  }
  // Text replies are verbatim strings in RESP3, as Redis's addReplyVerbatim.
  ASSERT_OK_AND_ASSIGN(RawConnection raw, RawConnection::Connect(proxy().port()));
  ASSERT_OK_AND_ASSIGN(std::string text, RunPipelined(raw, {{"HELLO", "3"}}));
  ASSERT_OK_AND_ASSIGN(text, RunPipelined(raw, {{"CLIENT", "INFO"}}));
  EXPECT_EQ(text[0], '=') << text;
  EXPECT_TRUE(absl::StrContains(text, "\r\ntxt:id=")) << text;
  EXPECT_TRUE(absl::StrContains(text, " resp=3 ")) << text;
  ASSERT_OK_AND_ASSIGN(text, RunPipelined(raw, {{"INFO", "server"}}));
  EXPECT_TRUE(absl::StartsWith(text.substr(text.find("\r\n") + 2), "txt:# Server")) << text;
  EXPECT_EQ(text[0], '=') << text;
}

// COMMAND, COMMAND INFO and COMMAND DOCS in RESP3 (sets and maps) and, after HELLO 2, in RESP2,
// as Redis 7.0 answers them; COUNT, GETKEYS and LIST are the same in both protocols.
TEST_F(ProxyResp3Test, CommandInfoAndDocsMatchStandalone) {
  std::vector<Command> session = {{"HELLO", "3"}};
  std::vector<Command> per_entry = {
      // Commands without subcommands, and subcommands: the same bytes.
      {"COMMAND", "INFO", "get", "set", "mget", "eval", "xreadgroup", "sort", "zadd"},
      {"COMMAND", "INFO", "object|encoding", "config|get", "client|list", "GET", "nosuch", "Set"},
      {"COMMAND", "DOCS", "get", "set", "mget", "object|encoding", "config|get", "client|list"},
      {"COMMAND", "DOCS", "nosuch"},
      {"COMMAND", "GETKEYS", "SET", "k", "v"},
      {"COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"},
      {"COMMAND", "GETKEYS", "EVAL", "return 1", "0"},
      {"COMMAND", "GETKEYS", "GET"},
      {"COMMAND", "LIST", "FILTERBY", "PATTERN", "getex"},
      {"COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"}};
  session.insert(session.end(), per_entry.begin(), per_entry.end());
  session.push_back({"HELLO", "2"});
  session.insert(session.end(), per_entry.begin(), per_entry.end());
  const std::string got = ExpectSameAsStandalone({session});
  for (const char* frame : {"~2\r\n+readonly\r\n+fast\r\n", "%5\r\n$7\r\nsummary\r\n",
                            "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n",
                            "*1\r\n$5\r\ngetex\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"}) {
    EXPECT_TRUE(absl::StrContains(got, frame)) << frame << " not in " << got;
  }

  // Whole lists: the same entries in another order, plus the proxy's own PROXY entry.
  for (const char* protocol : {"3", "2"}) {
    for (const Command& argv : std::vector<Command>{{"COMMAND"},
                                                    {"COMMAND", "INFO"},
                                                    {"COMMAND", "DOCS"},
                                                    {"COMMAND", "INFO", "config", "client"},
                                                    {"COMMAND", "DOCS", "config", "client"}}) {
      const std::string context = absl::StrCat("RESP", protocol, " ", absl::StrJoin(argv, " "));
      std::vector<std::string> replies;
      for (uint16_t port : {proxy().port(), redis_.port}) {
        ASSERT_OK_AND_ASSIGN(RawConnection conn, RawConnection::Connect(port));
        ASSERT_OK(RunPipelined(conn, {{"HELLO", protocol}}).status());
        ASSERT_OK_AND_ASSIGN(std::string reply, RunPipelined(conn, {argv}));
        replies.push_back(std::move(reply));
      }
      EXPECT_EQ(replies[0][0],
                protocol[0] == '3' && argv.size() >= 2 && argv[1] == "DOCS" ? '%' : '*')
          << context;
      const std::string proxy_all = CanonicalReply(replies[0], "proxy");
      const std::string redis_all = CanonicalReply(replies[1], "proxy");
      EXPECT_EQ(proxy_all, redis_all) << context;
      EXPECT_GT(redis_all.size(), argv.size() == 1 ? 50000u : 1000u) << context;
      if (argv.size() <= 2) {  // the proxy's whole list has PROXY too
        EXPECT_TRUE(absl::StrContains(replies[0], "$5\r\nproxy\r\n")) << context;
        EXPECT_GT(replies[0].size(), replies[1].size()) << context;
      } else {
        EXPECT_EQ(replies[0].size(), replies[1].size()) << context;
      }
    }
  }
  // COUNT: the standalone's plus PROXY, an integer in both protocols.
  ASSERT_OK_AND_ASSIGN(std::string count,
                       RawSession(redis_.port, {{"HELLO", "3"}, {"COMMAND", "COUNT"}}));
  ASSERT_OK_AND_ASSIGN(std::string proxy_count,
                       RawSession(proxy().port(), {{"HELLO", "3"}, {"COMMAND", "COUNT"}}));
  long long n = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(count.substr(count.rfind(':') + 1, count.size() - count.rfind(':') - 3), &n))
      << count;
  EXPECT_TRUE(absl::EndsWith(proxy_count, absl::StrCat(":", n + 1, "\r\n"))) << proxy_count;
}

// Subscribed in RESP3: confirmations are push frames, ordinary commands still run, PING is
// +PONG; messages published by another client arrive as push frames.
TEST_F(ProxyResp3Test, PubSubPushFrames) {
  const std::string confirmations = ExpectSameAsStandalone({
      {{"HELLO", "3"},
       {"SUBSCRIBE", "r3-ch1", "r3-ch2"},
       {"GET", "r3:{a}missing"},
       {"PING"},
       {"PSUBSCRIBE", "r3-pat*"},
       {"UNSUBSCRIBE", "r3-ch1"},
       {"PUNSUBSCRIBE"},
       {"UNSUBSCRIBE"},
       {"UNSUBSCRIBE"},
       {"PING"}},
  });
  EXPECT_TRUE(absl::StrContains(confirmations, ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"))
      << confirmations;
  ASSERT_OK_AND_ASSIGN(RawConnection sub, RawConnection::Connect(proxy().port()));
  ASSERT_OK_AND_ASSIGN(std::string got,
                       RunPipelined(sub, {{"HELLO", "3"}, {"SUBSCRIBE", "r3-news"}}));
  EXPECT_TRUE(absl::EndsWith(got, ">3\r\n$9\r\nsubscribe\r\n$7\r\nr3-news\r\n:1\r\n")) << got;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> publisher, proxy().Connect());
  EXPECT_EQ(publisher->Command({"PUBLISH", "r3-news", "hello"}), Reply::Integer(1));
  const std::string push = ">3\r\n$7\r\nmessage\r\n$7\r\nr3-news\r\n$5\r\nhello\r\n";
  ASSERT_OK_AND_ASSIGN(
      ReadResult message,
      sub.ReadUntil([&](absl::string_view data) { return data == push; }, absl::Seconds(30)));
  EXPECT_EQ(message.data, push);
}

// RESP2 and RESP3 clients pipelining at once through one worker (threads 1): each gets its own
// protocol's replies, in order, from the same nodes.
TEST_F(ProxyResp3Test, MixedProtocolsPipelinedConcurrently) {
  constexpr int kClients = 4;
  constexpr int kRounds = 20;
  constexpr int kPerRound = 50;
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      const bool resp3 = c % 2 == 1;
      absl::StatusOr<RawConnection> conn = RawConnection::Connect(proxy().port());
      if (!conn.ok()) {
        failures[c] = conn.status().ToString();
        return;
      }
      if (resp3 && !RunPipelined(*conn, {{"HELLO", "3"}}).ok()) {
        failures[c] = "HELLO 3 failed";
        return;
      }
      const std::string null = resp3 ? "_\r\n" : "$-1\r\n";
      for (int round = 0; round < kRounds && failures[c].empty(); ++round) {
        std::vector<Command> commands;
        std::string expected;
        for (int i = 0; i < kPerRound; ++i) {
          const std::string key = absl::StrCat("r3mix:", c, ":", i);  // spread over the slots
          commands.push_back({"SET", key, absl::StrCat(round)});
          commands.push_back({"GET", key});
          commands.push_back({"GET", absl::StrCat("r3mix:missing:", i)});
          commands.push_back({"HGETALL", absl::StrCat("r3mix:missing:", i)});
          const std::string value = absl::StrCat(round);
          absl::StrAppend(&expected, "+OK\r\n$", value.size(), "\r\n", value, "\r\n", null,
                          resp3 ? "%0\r\n" : "*0\r\n");
        }
        absl::StatusOr<std::string> got = RunPipelined(*conn, commands);
        if (!got.ok()) {
          failures[c] = got.status().ToString();
        } else if (*got != expected) {
          failures[c] = absl::StrCat("round ", round, ": got ", *got);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
}

// RESP2-only traffic pays nothing: a worker opens its RESP3 connection to a node (seen by the
// node as a client with resp=3) on the first RESP3 request for that node, one per node, shared by
// every RESP3 client of the worker.
TEST_F(ProxyResp3Test, Resp3ConnectionOpenedOnFirstUse) {
  ProxyOptions options;
  options.seeds = cluster().addresses();
  options.threads = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ProxyProcess> own, ProxyProcess::Start(options));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
  ASSERT_OK_AND_ASSIGN(const std::vector<int> masters, cluster().Masters());
  std::vector<Command> gets;  // one key on every master
  for (int master : masters) {
    for (size_t slot = 0; slot < owners.size(); ++slot) {
      if (owners[slot] != master) continue;
      gets.push_back({"GET", KeyInSlot(static_cast<uint16_t>(slot), "r3open")});
      break;
    }
  }
  ASSERT_EQ(gets.size(), masters.size());
  // Connections with resp=3 on each master (other proxies of this binary may hold some).
  std::string lists;  // the last CLIENT LIST of every master, for failure messages
  const auto resp3_clients = [&] {
    lists.clear();
    std::vector<int> counts;
    for (int master : masters) {
      absl::StatusOr<std::unique_ptr<TestClient>> node = cluster().Connect(master);
      const std::string list = node.ok() ? (*node)->Command({"CLIENT", "LIST"}).str : "";
      lists += list;
      int count = 0;
      for (size_t at = list.find(" resp=3"); at != std::string::npos;
           at = list.find(" resp=3", at + 1)) {
        ++count;
      }
      counts.push_back(count);
    }
    return counts;
  };
  const std::vector<int> before = resp3_clients();
  ASSERT_OK_AND_ASSIGN(const std::string resp2, RawSession(own->port(), gets));
  std::string nulls;
  for (size_t i = 0; i < gets.size(); ++i) nulls += "$-1\r\n";
  EXPECT_EQ(resp2, nulls);
  EXPECT_EQ(resp3_clients(), before);  // RESP2 traffic opened no RESP3 connection
  std::vector<Command> hello_then_gets = {{"HELLO", "3"}};
  hello_then_gets.insert(hello_then_gets.end(), gets.begin(), gets.end());
  for (int client = 0; client < 3; ++client) {
    ASSERT_OK_AND_ASSIGN(const std::string resp3, RawSession(own->port(), hello_then_gets));
    EXPECT_TRUE(absl::EndsWith(resp3, "_\r\n")) << resp3;
  }
  std::vector<int> expected = before;
  for (int& count : expected) ++count;  // one per node, whatever the number of RESP3 clients
  EXPECT_EQ(resp3_clients(), expected) << lists;
}

// redis-cli -3 shows the same typed output through the proxy as from the standalone server.
TEST_F(ProxyResp3Test, RedisCliResp3) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> standalone,
                       TestClient::Connect("127.0.0.1", redis_.port));
  for (TestClient* c : {client.get(), standalone.get()}) {
    c->Command({"DEL", "r3cli:h", "r3cli:z"});
    c->Command({"HSET", "r3cli:h", "f", "v"});
    c->Command({"ZADD", "r3cli:z", "2.5", "m"});
  }
  for (const Command& argv : std::vector<Command>{{"HGETALL", "r3cli:h"},
                                                  {"ZSCORE", "r3cli:z", "m"},
                                                  {"GET", "r3cli:missing"},
                                                  {"CONFIG", "GET", "maxmemory"},
                                                  {"SISMEMBER", "r3cli:h", "x"}}) {
    std::vector<std::string> outputs;
    for (uint16_t port : {proxy().port(), redis_.port}) {
      Command cli = {"redis-cli", "-3", "--no-raw", "-p", absl::StrCat(port)};
      cli.insert(cli.end(), argv.begin(), argv.end());
      ASSERT_OK_AND_ASSIGN(CommandResult result, RunCommand(cli, dir_->path(), absl::Seconds(30)));
      EXPECT_TRUE(result.Succeeded()) << result.output;
      outputs.push_back(result.output);
    }
    EXPECT_EQ(outputs[0], outputs[1]) << absl::StrJoin(argv, " ");
  }
  for (TestClient* c : {client.get(), standalone.get()}) c->Command({"DEL", "r3cli:h", "r3cli:z"});
}

}  // namespace
}  // namespace slotplane::integration
