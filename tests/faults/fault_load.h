#pragma once

// The fault suite's load-and-verify client: N connections, each the only writer of its share of
// K counters spread over every hash slot, INCR them (pipelined or not) with a GET now and then,
// record every acknowledged value (key_ledger.h), and at the end read every key back and check
// that no acknowledged increment was lost. Used in process by the scenario tests and by the
// slotplane-faultload command.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/faults/command_sender.h"
#include "tests/faults/key_ledger.h"
#include "tests/faults/latency_histogram.h"

namespace slotplane::faults {

struct LoadOptions {
  // Where to send: a proxy, or with sender.cluster_mode a cluster node (MOVED followed).
  SenderOptions sender;
  int connections = 8;
  int pipeline = 1;  // commands per round trip on each connection
  // The first this many connections send one command per round trip whatever `pipeline` says,
  // so one load mixes pipelined and unpipelined clients.
  int unpipelined_connections = 0;
  int keys = 4096;  // spread evenly over the 16384 slots (every slot when >= 16384)
  // Key names start with this; use a fresh prefix per run (the counters must not exist).
  std::string key_prefix = "fl";
  // When set, only the keys whose slot it accepts are used (e.g. the slots of one shard).
  std::function<bool(int slot)> slot_filter;
  // The load stops by itself after this long (or at Stop()).
  std::chrono::milliseconds duration{10000};
  // Every n-th command of a connection is a GET of one of its keys (0: writes only).
  int read_every = 8;
  // After a batch with an error, the connection waits this long before the next (a client's
  // retry back-off; keeps a failing endpoint from being hammered and the error counts
  // comparable between runs).
  std::chrono::milliseconds error_backoff{20};
  // Final verification: every key is read through `verify_sender` (default: `sender`) until it
  // answers or this long has passed.
  std::chrono::milliseconds verify_timeout{30000};
  bool verify_with_other_sender = false;
  SenderOptions verify_sender;
};

struct LoadReport {
  int64_t commands = 0;  // sent
  int64_t ok = 0;        // answered without error
  int64_t errors = 0;    // error replies and transport errors
  std::map<std::string, int64_t> errors_by_kind;
  std::string first_error;  // full text of the first error, for failure messages
  int64_t redirects = 0;    // cluster mode: MOVED/ASK followed
  int64_t connects = 0;     // connections made (1 per connection when nothing broke)
  int64_t p50_micros = 0;
  int64_t p99_micros = 0;
  int64_t max_micros = 0;
  // The longest time a connection went without a successful reply, errors and back-off included.
  int64_t max_stall_micros = 0;
  double seconds = 0;
  LedgerCounts checks;

  // Acknowledged writes lost: by the final read or seen going backwards during the run.
  int64_t lost_writes() const { return checks.lost_increments + checks.backwards_acks; }
  // One JSON object on one line; `name` is a label for the run (e.g. the scenario).
  std::string ToJson(const std::string& name) const;
  // A few human-readable lines.
  std::string ToText(const std::string& name) const;
};

// A running load. Start() spawns the connections' threads; Finish() stops them (if still
// running), verifies every key and returns the report. Owned by one thread (the caller).
class FaultLoad {
 public:
  explicit FaultLoad(LoadOptions options);
  FaultLoad(const FaultLoad&) = delete;
  FaultLoad& operator=(const FaultLoad&) = delete;
  ~FaultLoad();

  void Start();
  // Asks the connections to stop after their current batch.
  void Stop() { stop_.store(true); }
  // Waits until the connections stop by themselves (LoadOptions::duration) or at Stop().
  void Wait();
  // Stops, joins, verifies and reports. Call once.
  LoadReport Finish();

  // Live counters, any thread.
  int64_t acked() const { return acked_.load(); }
  int64_t failed() const { return failed_.load(); }
  bool running() const { return running_.load() > 0; }

  const std::vector<std::string>& keys() const { return keys_; }

 private:
  struct Worker {
    LatencyHistogram latency;
    LedgerCounts counts;
    std::map<std::string, int64_t> errors_by_kind;
    std::string first_error;
    int64_t commands = 0, ok = 0, errors = 0, redirects = 0, connects = 0;
    int64_t max_stall_micros = 0;
  };

  void RunWorker(int index);
  void Record(Worker& worker, size_t key, bool is_read, int64_t floor, const CommandResult& result);
  void Verify(LoadReport& report);

  const LoadOptions options_;
  std::vector<std::string> keys_;
  KeyLedger ledger_;
  std::vector<Worker> workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> failed_{0};
  std::chrono::steady_clock::time_point started_;
  bool finished_ = false;
};

// Key `index` of a load with `count` keys: "<prefix>:{<tag>}:<index>", in slot
// index * 16384 / count (mod 16384 when count > 16384).
std::string LoadKey(const std::string& prefix, int index, int count);

}  // namespace slotplane::faults
