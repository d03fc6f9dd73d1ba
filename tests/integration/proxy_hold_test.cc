// A master that dies or stops answering behind a running proxy. With failover-hold-timeout, a
// SIGKILLed master's requests wait for the promoted replica instead of failing, and every
// acknowledged INCR is still there afterwards; with it off, they fail fast as before. With
// backend-timeout, a SIGSTOPped master's requests fail with an error naming the node after the
// timeout, while the other shards keep answering.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

constexpr int kLoadClients = 4;
constexpr char kLostError[] = "was lost before the reply arrived";

// What one load client saw. A key's value is known exactly (`acked`) unless an INCR of it
// failed as "lost before the reply arrived": then it holds `acked` or `acked + 1`.
struct KeyState {
  int64_t acked = 0;
  bool maybe_one_more = false;
};

struct LoadStats {
  int64_t ops = 0;
  int64_t errors = 0;            // error replies other than an ambiguous INCR
  int64_t ambiguous_writes = 0;  // INCRs failed as "lost before the reply arrived"
  std::vector<std::string> samples;
  // Latency of every command answered after `since`, in microseconds.
  std::vector<int64_t> latencies_us;
};

// kLoadClients threads, each with its own connection to the proxy and its own keys (one key in
// every kLoadClients-th slot, so together they cover every slot), doing INCR then GET of one key
// at a time and checking each reply against what it acknowledged before.
class Load {
 public:
  explicit Load(uint16_t port) {
    for (int t = 0; t < kLoadClients; ++t) {
      threads_.emplace_back([this, port, t] { Run(port, t); });
    }
  }
  ~Load() { Stop(); }

  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  int64_t ops() const { return ops_.load(); }
  // Latencies are recorded from now on.
  void MarkFailureStart() { since_us_ = absl::ToUnixMicros(absl::Now()); }
  bool WaitForOps(int64_t more, absl::Duration timeout) const {
    const int64_t target = ops() + more;
    return WaitForOk(
               [&] { return ops() >= target ? absl::OkStatus() : absl::UnavailableError("slow"); },
               timeout, absl::Milliseconds(20))
        .ok();
  }
  // After Stop().
  const LoadStats& stats() const { return stats_; }
  const std::map<std::string, KeyState>& keys() const { return keys_; }

 private:
  void Run(uint16_t port, int index) {
    ClientOptions options;
    options.io_timeout = absl::Seconds(60);
    absl::StatusOr<std::unique_ptr<TestClient>> client =
        TestClient::Connect("127.0.0.1", port, options);
    if (!client.ok()) {
      Record([&](LoadStats& s) { s.samples.push_back(std::string(client.status().message())); });
      return;
    }
    std::vector<std::string> keys;
    for (int slot = index; slot < kSlotCount; slot += kLoadClients) {
      keys.push_back(KeyInSlot(static_cast<uint16_t>(slot), "hold"));
    }
    std::map<std::string, KeyState> state;
    LoadStats local;
    for (size_t i = 0; !stop_; i = (i + 1) % keys.size()) {
      const std::string& key = keys[i];
      KeyState& k = state[key];
      const Reply incr = Timed(**client, {"INCR", key}, &local);
      if (incr.type == Reply::Type::kInteger &&
          (incr.integer == k.acked + 1 || (k.maybe_one_more && incr.integer == k.acked + 2))) {
        k = KeyState{incr.integer, false};
      } else if (incr.type == Reply::Type::kError && absl::StrContains(incr.str, kLostError)) {
        ++local.ambiguous_writes;
        k.maybe_one_more = true;
      } else {
        Fail(&local,
             absl::StrCat("INCR ", key, " -> ", incr.DebugString(), ", acknowledged ", k.acked));
        if (incr.type == Reply::Type::kTransportError) break;
        continue;
      }
      const Reply get = Timed(**client, {"GET", key}, &local);
      if (k.maybe_one_more && get == Reply::String(std::to_string(k.acked + 1))) {
        k = KeyState{k.acked + 1, false};  // the lost INCR had run
      } else if (k.maybe_one_more && get == Reply::String(std::to_string(k.acked))) {
        k.maybe_one_more = false;  // it had not
      } else if (k.acked == 0 && k.maybe_one_more && get == Reply::Nil()) {
        k.maybe_one_more = false;
      } else if (k.maybe_one_more || get != Reply::String(std::to_string(k.acked))) {
        Fail(&local,
             absl::StrCat("GET ", key, " -> ", get.DebugString(), ", acknowledged ", k.acked));
        if (get.type == Reply::Type::kTransportError) break;
      }
      ops_ += 2;
    }
    std::lock_guard<std::mutex> lock(mu_);
    stats_.ops += local.ops;
    stats_.errors += local.errors;
    stats_.ambiguous_writes += local.ambiguous_writes;
    for (std::string& sample : local.samples) {
      if (stats_.samples.size() < 10) stats_.samples.push_back(std::move(sample));
    }
    stats_.latencies_us.insert(stats_.latencies_us.end(), local.latencies_us.begin(),
                               local.latencies_us.end());
    keys_.insert(state.begin(), state.end());
  }

  Reply Timed(TestClient& client, const std::vector<std::string>& command, LoadStats* local) {
    const absl::Time start = absl::Now();
    Reply reply = client.Command(command);
    ++local->ops;
    if (absl::ToUnixMicros(start) >= since_us_.load()) {
      local->latencies_us.push_back(absl::ToInt64Microseconds(absl::Now() - start));
    }
    return reply;
  }

  static void Fail(LoadStats* local, std::string what) {
    ++local->errors;
    if (local->samples.size() < 10) local->samples.push_back(std::move(what));
  }

  template <typename Fn>
  void Record(Fn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    fn(stats_);
  }

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ops_{0};
  std::atomic<int64_t> since_us_{INT64_MAX};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  LoadStats stats_;                       // guarded by mu_ until Stop()
  std::map<std::string, KeyState> keys_;  // guarded by mu_ until Stop()
};

int64_t Percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

// The process id a node reports (INFO server), for signals.
absl::StatusOr<pid_t> NodePid(RedisCluster& cluster, int node) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = cluster.Connect(node);
  if (!client.ok()) return client.status();
  const Reply info = (*client)->Command({"INFO", "server"});
  const size_t at = info.str.find("process_id:");
  if (info.type != Reply::Type::kString || at == std::string::npos) {
    return absl::InternalError(absl::StrCat("no process_id in ", info.DebugString()));
  }
  const size_t end = info.str.find("\r\n", at);
  int64_t pid = 0;
  if (!absl::SimpleAtoi(info.str.substr(at + 11, end - at - 11), &pid)) {
    return absl::InternalError("bad process_id");
  }
  return static_cast<pid_t>(pid);
}

struct KillOutcome {
  LoadStats stats;
  std::map<std::string, KeyState> keys;
  absl::Duration promotion;  // from SIGKILL until the cluster was stable with a new master
  int64_t held = 0;
  int64_t resent = 0;
};

class ProxyHoldTest : public ::testing::Test {
 protected:
  void StartCluster(absl::Duration node_timeout) {
    RedisClusterOptions options;
    options.node_timeout = node_timeout;
    ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options));
  }
  void StartProxy(std::vector<std::string> extra_args) {
    ProxyOptions options;
    options.seeds = cluster_->addresses();
    options.extra_args = std::move(extra_args);
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(options));
  }

  // Runs the load, SIGKILLs the master of slot 0, waits for the failover and for more load after
  // it, and returns what the load saw.
  void KillMasterUnderLoad(KillOutcome* out) {
    ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
    Load load(proxy_->port());
    ASSERT_TRUE(load.WaitForOps(2000, absl::Seconds(60))) << "no load before the failure";
    ASSERT_OK(cluster_->WaitForReplicasInSync(victim));
    load.MarkFailureStart();
    const absl::Time killed = absl::Now();
    ASSERT_OK(cluster_->KillNode(victim));
    ASSERT_OK(cluster_->WaitForFailover(0, victim, absl::Seconds(60)));
    out->promotion = absl::Now() - killed;
    ASSERT_TRUE(load.WaitForOps(4000, absl::Seconds(60))) << "no load after the failover";
    load.Stop();
    out->stats = load.stats();
    out->keys = load.keys();
    ASSERT_OK_AND_ASSIGN(out->held, proxy_->InfoCounter("failover_held_requests"));
    ASSERT_OK_AND_ASSIGN(out->resent, proxy_->InfoCounter("failover_resent_requests"));
    std::printf(
        "[ measure ] %lld ops, %lld errors, %lld ambiguous INCRs; promotion %s; latency after "
        "the kill p99 %.1f ms, max %.1f ms; held %lld, resent %lld\n",
        static_cast<long long>(out->stats.ops), static_cast<long long>(out->stats.errors),
        static_cast<long long>(out->stats.ambiguous_writes),
        absl::FormatDuration(out->promotion).c_str(),
        Percentile(out->stats.latencies_us, 0.99) / 1000.0,
        Percentile(out->stats.latencies_us, 1.0) / 1000.0, static_cast<long long>(out->held),
        static_cast<long long>(out->resent));
  }

  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyHoldTest, MasterKilledRequestsAreHeldUntilTheReplicaTakesOver) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(absl::Milliseconds(1000)));
  // Far longer than the promotion takes, even on a loaded machine.
  ASSERT_NO_FATAL_FAILURE(StartProxy({"--failover-hold-timeout", "30000"}));
  KillOutcome outcome;
  ASSERT_NO_FATAL_FAILURE(KillMasterUnderLoad(&outcome));

  EXPECT_EQ(outcome.stats.errors, 0);
  for (const std::string& sample : outcome.stats.samples) ADD_FAILURE() << sample;
  // An INCR written to the master as it died may have run: it fails with the connection error
  // (never resent). Each client has one command in flight, so at most one each.
  EXPECT_LE(outcome.stats.ambiguous_writes, kLoadClients);
  EXPECT_GT(outcome.held, 0) << "nothing was held: the failure missed the load";
  EXPECT_GT(outcome.resent, 0);

  // Every acknowledged INCR is there, read straight from the cluster's new masters.
  std::vector<std::vector<std::string>> gets;
  std::vector<const KeyState*> states;
  for (const auto& [key, state] : outcome.keys) {
    gets.push_back({"GET", key});
    states.push_back(&state);
  }
  ASSERT_GT(gets.size(), 1000u) << "the load covered few keys";
  ASSERT_OK_AND_ASSIGN(const std::vector<Reply> values, cluster_->PipelineOnOwners(gets));
  int wrong = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const KeyState& state = *states[i];
    const bool ok =
        state.acked == 0
            ? values[i] == Reply::Nil() || (state.maybe_one_more && values[i] == Reply::String("1"))
            : values[i] == Reply::String(std::to_string(state.acked)) ||
                  (state.maybe_one_more &&
                   values[i] == Reply::String(std::to_string(state.acked + 1)));
    if (!ok && wrong++ < 10) {
      ADD_FAILURE() << gets[i][1] << " holds " << values[i].DebugString() << ", acknowledged "
                    << state.acked;
    }
  }
  EXPECT_EQ(wrong, 0);
}

// A write listed in failover-resend-commands that was already written to the master when it
// died is sent again to the promoted replica instead of failing: a client pipelining SETs of
// one shard's keys sees no error at all, and every key ends with its last acknowledged value.
// (Without the option, the SETs in flight at the kill fail as "lost before the reply arrived".)
TEST_F(ProxyHoldTest, ListedWritesInFlightAtTheKillAreSentAgain) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(absl::Milliseconds(1000)));
  ASSERT_NO_FATAL_FAILURE(
      StartProxy({"--failover-hold-timeout", "30000", "--failover-resend-commands", "set,del"}));
  ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
  constexpr int kKeys = 100;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(KeyInSlot(0, absl::StrCat("resend", i)));

  std::atomic<bool> stop{false};
  std::atomic<int64_t> batches{0};
  std::vector<std::string> failures;
  ClientOptions options;
  options.io_timeout = absl::Seconds(60);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy_->Connect(options));
  std::thread writer([&] {
    // Batch b sets every key to b; the next batch leaves once all of b's replies are in.
    for (int64_t b = 1; !stop && failures.size() < 10; ++b) {
      for (const std::string& key : keys) client->Append({"SET", key, absl::StrCat(b)});
      for (int i = 0; i < kKeys; ++i) {
        const Reply reply = client->GetReply();
        if (reply != Reply::Status("OK")) failures.push_back(reply.DebugString());
      }
      batches = b;
    }
  });
  auto wait_batches = [&](int64_t more) {
    const int64_t target = batches + more;
    return WaitForOk(
        [&] { return batches >= target ? absl::OkStatus() : absl::UnavailableError("slow"); },
        absl::Seconds(60), absl::Milliseconds(20));
  };
  EXPECT_OK(wait_batches(20));
  ASSERT_OK(cluster_->WaitForReplicasInSync(victim));
  ASSERT_OK(cluster_->KillNode(victim));
  EXPECT_OK(cluster_->WaitForFailover(0, victim, absl::Seconds(60)));
  EXPECT_OK(wait_batches(20)) << "no writes after the failover";
  stop = true;
  writer.join();

  for (const std::string& failure : failures) ADD_FAILURE() << failure;
  ASSERT_OK_AND_ASSIGN(const int64_t resent, proxy_->InfoCounter("failover_resent_requests"));
  EXPECT_GT(resent, 0) << "nothing was in flight at the kill";
  std::vector<std::vector<std::string>> gets;
  for (const std::string& key : keys) gets.push_back({"GET", key});
  ASSERT_OK_AND_ASSIGN(const std::vector<Reply> values, cluster_->PipelineOnOwners(gets));
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i], Reply::String(absl::StrCat(batches.load()))) << keys[i];
  }
}

// With holding off (the behaviour before failover-hold-timeout), the same failure reaches the
// clients as errors, quickly.
TEST_F(ProxyHoldTest, MasterKilledWithoutHoldFailsFast) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(absl::Milliseconds(1000)));
  ASSERT_NO_FATAL_FAILURE(StartProxy({"--failover-hold-timeout", "0"}));
  KillOutcome outcome;
  ASSERT_NO_FATAL_FAILURE(KillMasterUnderLoad(&outcome));
  EXPECT_GT(outcome.stats.errors, 0);
  EXPECT_EQ(outcome.held, 0);
}

TEST_F(ProxyHoldTest, StoppedMasterTimesOutOtherShardsKeepAnswering) {
  // Long enough that the cluster does not fail the stopped master over during the test.
  ASSERT_NO_FATAL_FAILURE(StartCluster(absl::Milliseconds(30000)));
  ASSERT_NO_FATAL_FAILURE(StartProxy({"--backend-timeout", "1000", "--threads", "1"}));
  ASSERT_OK_AND_ASSIGN(const int victim, cluster_->SlotOwner(0));
  ASSERT_OK_AND_ASSIGN(const std::vector<int> owners, cluster_->SlotOwners());
  int other_slot = -1;
  for (int slot = 0; slot < kSlotCount && other_slot < 0; ++slot) {
    if (owners[slot] != victim) other_slot = slot;
  }
  ASSERT_GE(other_slot, 0);
  const std::string victim_key = KeyInSlot(0, "stopped");
  const std::string other_key = KeyInSlot(static_cast<uint16_t>(other_slot), "alive");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> stopped_client, proxy_->Connect());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> other_client, proxy_->Connect());
  ASSERT_EQ(stopped_client->Command({"SET", victim_key, "v"}), Reply::Status("OK"));
  ASSERT_EQ(other_client->Command({"SET", other_key, "0"}), Reply::Status("OK"));

  ASSERT_OK_AND_ASSIGN(const pid_t pid, NodePid(*cluster_, victim));
  ASSERT_EQ(kill(pid, SIGSTOP), 0);
  struct Continue {
    pid_t pid;
    ~Continue() { kill(pid, SIGCONT); }
  } resume{pid};

  const std::string expected = absl::StrCat("cluster node ", cluster_->address(victim).ToString(),
                                            " did not answer within 1000 ms");
  // Twice: the second request goes to a reopened connection, which times out again.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::atomic<bool> done{false};
    Reply victim_reply;
    absl::Duration took;
    std::thread waiter([&] {
      const absl::Time start = absl::Now();
      victim_reply = stopped_client->Command({"GET", victim_key});
      took = absl::Now() - start;
      done = true;
    });
    // Meanwhile another shard answers every command.
    int64_t other_ok = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    int64_t other_failed = 0;
    while (!done && absl::Now() < deadline) {
      const Reply reply = other_client->Command({"INCR", other_key});
      if (reply.type == Reply::Type::kInteger) {
        ++other_ok;
      } else if (other_failed++ == 0) {
        ADD_FAILURE() << "other shard: " << reply.DebugString();
      }
    }
    waiter.join();
    EXPECT_EQ(victim_reply.type, Reply::Type::kError) << victim_reply.DebugString();
    EXPECT_TRUE(absl::StrContains(victim_reply.str, expected)) << victim_reply.DebugString();
    EXPECT_GE(took, absl::Milliseconds(900));
    EXPECT_LT(took, absl::Seconds(10)) << "the timeout took far longer than backend-timeout";
    EXPECT_GT(other_ok, 0);
    EXPECT_EQ(other_failed, 0);
    std::printf(
        "[ measure ] attempt %d: error after %s; %lld commands to another shard meanwhile\n",
        attempt, absl::FormatDuration(took).c_str(), static_cast<long long>(other_ok));
  }
  ASSERT_OK_AND_ASSIGN(const int64_t timeouts, proxy_->InfoCounter("backend_timeouts"));
  EXPECT_GE(timeouts, 2);

  ASSERT_EQ(kill(pid, SIGCONT), 0);
  // The node answers again through the proxy.
  ASSERT_OK(WaitForOk(
      [&]() -> absl::Status {
        const Reply reply = stopped_client->Command({"GET", victim_key});
        if (reply == Reply::String("v")) return absl::OkStatus();
        return absl::UnavailableError(reply.DebugString());
      },
      absl::Seconds(30), absl::Milliseconds(100)));
}

}  // namespace
}  // namespace slotplane::integration
