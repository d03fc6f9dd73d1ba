// A script that runs past busy-reply-threshold holds only its own client: through a proxy with
// one worker thread (so that every client shares the worker's connection to each node), while a
// looping script runs on one master, a GET of a key on that master answers Redis's -BUSY (instead
// of waiting behind the script), a GET on another master answers normally, PING answers -BUSY as
// a busy Redis does, SCRIPT KILL and FUNCTION KILL reach the node and answer OK (NOTBUSY when
// nothing runs), and the script's client gets Redis's "Script killed" error. Likewise for a script
// inside MULTI/EXEC and for a blocking command on the busy node. Every reply is bounded by a
// deadline: a client's io_timeout turns a hang into a transport error, which fails the test.
//
// The texts are Redis 7.0's, checked against a standalone redis-server.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register([] {
  SharedClusterEnvironment::Options options;
  // No replicas: a master busy with a script can never be failed over during the test.
  options.cluster.replicas_per_master = 0;
  options.proxy.threads = 1;
  return options;
}());

// Generous for a loaded 2-core machine, far below "forever".
constexpr absl::Duration kReplyDeadline = absl::Seconds(8);
constexpr absl::Duration kBusyWait = absl::Seconds(10);

constexpr char kLoop[] = "while true do end";
constexpr char kLoopLibrary[] =
    "#!lua name=busylib\n"
    "redis.register_function('busy_loop', function(keys, args) while true do end end)";

const Reply kScriptBusy = Reply::Error(
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
const Reply kFunctionBusy = Reply::Error(
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
const Reply kNotBusy = Reply::Error("NOTBUSY No scripts in execution right now.");
constexpr char kKilledPrefix[] = "-ERR Script killed by user with SCRIPT KILL...";

class ProxyScriptsBusyTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    client_ = Proxy();
    ASSERT_NE(client_, nullptr);
    ASSERT_EQ(client_->Command({"CONFIG", "SET", "busy-reply-threshold", "10"}),
              Reply::Status("OK"));
    ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster().SlotOwners());
    busy_key_ = "{busy}k";
    for (int i = 0; other_key_.empty(); ++i) {
      const std::string key = absl::StrCat("other:", i);
      if (owners[KeyHashSlot(key)] != owners[KeyHashSlot(busy_key_)]) other_key_ = key;
    }
    ASSERT_EQ(client_->Command({"SET", other_key_, "v"}), Reply::Status("OK"));
  }

  void TearDown() override {
    if (client_ != nullptr) {
      EXPECT_EQ(client_->Command({"CONFIG", "SET", "busy-reply-threshold", "5000"}),
                Reply::Status("OK"));
    }
    SharedClusterTest::TearDown();
  }

  // A client whose every reply must come within kReplyDeadline.
  std::unique_ptr<TestClient> Proxy() {
    ClientOptions options;
    options.io_timeout = kReplyDeadline;
    absl::StatusOr<std::unique_ptr<TestClient>> client = proxy().Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // Sends `commands` on a raw connection (the script's client) without reading the replies.
  absl::StatusOr<RawConnection> SendRaw(const std::vector<std::vector<std::string>>& commands) {
    absl::StatusOr<RawConnection> conn = RawConnection::Connect(proxy().port());
    if (!conn.ok()) return conn.status();
    std::string bytes;
    for (const auto& command : commands) bytes += EncodeCommand(command);
    absl::Status sent = conn->Send(bytes);
    if (!sent.ok()) return sent;
    return conn;
  }

  // Polls GET of the busy key until the node answers `busy` (the script passed the threshold).
  void WaitUntilBusy(const Reply& busy) {
    Reply last;
    const bool busy_now = WaitFor(
        [&] {
          last = client_->Command({"GET", busy_key_});
          return last == busy || last.type == Reply::Type::kTransportError;
        },
        kBusyWait);
    ASSERT_TRUE(busy_now) << "the node never answered BUSY; last reply: " << last;
    ASSERT_EQ(last, busy);
  }

  // While the busy key's master runs a script: the other master answers at once.
  void ExpectOtherNodeServed() {
    EXPECT_EQ(client_->Command({"GET", other_key_}), Reply::String("v"));
    EXPECT_EQ(client_->Command({"SET", other_key_, "v"}), Reply::Status("OK"));
  }

  // The script's client's reply, within the deadline.
  static std::string ReadOneReply(RawConnection* conn) {
    absl::StatusOr<ReadResult> read = conn->ReadReplies(1, kReplyDeadline);
    if (!read.ok()) return read.status().ToString();
    return read->data;
  }

  std::unique_ptr<TestClient> client_;
  std::string busy_key_;
  std::string other_key_;
};

TEST_F(ProxyScriptsBusyTest, BusyScriptStallsNoOneAndScriptKillReachesIt) {
  EXPECT_EQ(client_->Command({"SCRIPT", "KILL"}), kNotBusy);
  ASSERT_OK_AND_ASSIGN(RawConnection script, SendRaw({{"EVAL", kLoop, "1", busy_key_}}));
  WaitUntilBusy(kScriptBusy);
  ExpectOtherNodeServed();
  // A second client, a second worker connection: the same answers.
  auto second = Proxy();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->Command({"SET", busy_key_, "x"}), kScriptBusy);
  EXPECT_EQ(second->Command({"PING"}), kScriptBusy);
  EXPECT_EQ(second->Command({"PING", "hello"}), kScriptBusy);
  // FUNCTION KILL cannot stop a script: Redis's BUSY, not the idle masters' NOTBUSY.
  EXPECT_EQ(second->Command({"FUNCTION", "KILL"}), kScriptBusy);

  EXPECT_EQ(second->Command({"SCRIPT", "KILL"}), Reply::Status("OK"));
  const std::string killed = ReadOneReply(&script);
  EXPECT_TRUE(absl::StartsWith(killed, kKilledPrefix)) << killed;
  EXPECT_EQ(client_->Command({"GET", busy_key_}), Reply::Nil());
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
  EXPECT_EQ(client_->Command({"PING", "hello"}), Reply::String("hello"));
  EXPECT_EQ(client_->Command({"SCRIPT", "KILL"}), kNotBusy);
  // The script's client goes on.
  ASSERT_OK(script.Send(EncodeCommand({"EVAL", "return KEYS[1]", "1", busy_key_})));
  EXPECT_EQ(ReadOneReply(&script), absl::StrCat("$", busy_key_.size(), "\r\n", busy_key_, "\r\n"));
}

TEST_F(ProxyScriptsBusyTest, BusyFunctionStallsNoOneAndFunctionKillReachesIt) {
  ASSERT_EQ(client_->Command({"FUNCTION", "LOAD", "REPLACE", kLoopLibrary}),
            Reply::String("busylib"));
  EXPECT_EQ(client_->Command({"FUNCTION", "KILL"}), kNotBusy);
  ASSERT_OK_AND_ASSIGN(RawConnection fcall, SendRaw({{"FCALL", "busy_loop", "1", busy_key_}}));
  WaitUntilBusy(kFunctionBusy);
  ExpectOtherNodeServed();
  EXPECT_EQ(client_->Command({"PING"}), kFunctionBusy);
  EXPECT_EQ(client_->Command({"SCRIPT", "KILL"}), kFunctionBusy);

  EXPECT_EQ(client_->Command({"FUNCTION", "KILL"}), Reply::Status("OK"));
  const std::string killed = ReadOneReply(&fcall);
  EXPECT_TRUE(absl::StartsWith(killed, kKilledPrefix)) << killed;
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
  EXPECT_EQ(client_->Command({"FUNCTION", "KILL"}), kNotBusy);
  EXPECT_EQ(client_->Command({"FUNCTION", "DELETE", "busylib"}), Reply::Status("OK"));
}

TEST_F(ProxyScriptsBusyTest, ScriptInsideMultiAndBlockingCommandsDoNotHang) {
  ASSERT_OK_AND_ASSIGN(
      RawConnection txn,
      SendRaw(
          {{"MULTI"}, {"SET", busy_key_, "before"}, {"EVAL", kLoop, "1", busy_key_}, {"EXEC"}}));
  WaitUntilBusy(kScriptBusy);
  ExpectOtherNodeServed();
  auto other = Proxy();
  ASSERT_NE(other, nullptr);
  // A blocking command and a transaction on the busy node: Redis's BUSY at once.
  EXPECT_EQ(other->Command({"BLPOP", busy_key_, "0"}), kScriptBusy);
  EXPECT_EQ(other->Command({"MULTI"}), Reply::Status("OK"));
  EXPECT_EQ(other->Command({"GET", busy_key_}), Reply::Status("QUEUED"));
  EXPECT_EQ(other->Command({"EXEC"}).type, Reply::Type::kError);
  // A pipelined script call behind the busy node's answer keeps its order.
  other->Append({"GET", other_key_});
  other->Append({"EVAL", "return 7", "1", busy_key_});
  other->Append({"GET", other_key_});
  EXPECT_EQ(other->GetReply(), Reply::String("v"));
  EXPECT_EQ(other->GetReply(), kScriptBusy);
  EXPECT_EQ(other->GetReply(), Reply::String("v"));

  EXPECT_EQ(other->Command({"SCRIPT", "KILL"}), Reply::Status("OK"));
  absl::StatusOr<ReadResult> read = txn.ReadReplies(4, kReplyDeadline);
  ASSERT_OK(read);
  // MULTI's OK, two QUEUED, then EXEC's array: SET's OK and the script's error.
  EXPECT_TRUE(absl::StartsWith(read->data, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n"))
      << read->data;
  EXPECT_TRUE(absl::StrContains(read->data, kKilledPrefix)) << read->data;
  EXPECT_EQ(client_->Command({"GET", busy_key_}), Reply::String("before"));
  EXPECT_EQ(client_->Command({"DEL", busy_key_}), Reply::Integer(1));
}

TEST_F(ProxyScriptsBusyTest, ScriptClientLeavingMidScriptLeavesTheNodeKillable) {
  {
    ASSERT_OK_AND_ASSIGN(RawConnection script, SendRaw({{"EVAL", kLoop, "0"}}));
    // Which master runs a keyless script is the proxy's choice: wait for PING to say BUSY.
    Reply last;
    EXPECT_TRUE(WaitFor(
        [&] {
          last = client_->Command({"PING"});
          return last == kScriptBusy || last.type == Reply::Type::kTransportError;
        },
        kBusyWait))
        << last;
    EXPECT_EQ(last, kScriptBusy);
    script.Close();
  }
  // The script runs on after its client left; SCRIPT KILL still reaches it. The node stops the
  // script at its next check, a moment after answering: poll every master until none is busy.
  EXPECT_EQ(client_->Command({"SCRIPT", "KILL"}), Reply::Status("OK"));
  Reply last;
  EXPECT_TRUE(WaitFor(
      [&] {
        last = client_->Command({"DBSIZE"});
        return last.type == Reply::Type::kInteger || last.type == Reply::Type::kTransportError;
      },
      kBusyWait))
      << last;
  EXPECT_EQ(last.type, Reply::Type::kInteger) << last;
  EXPECT_EQ(client_->Command({"PING"}), Reply::Status("PONG"));
}

}  // namespace
}  // namespace slotplane::integration
