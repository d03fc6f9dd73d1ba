#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace slotplane::integration {

struct TrafficOptions {
  uint16_t port = 0;  // where to send, on 127.0.0.1 (normally a proxy)
  // Keys written and read back in turn. The traffic must be their only writer. A key in
  // `initial_values` must hold that value when the traffic starts; any other key must not exist.
  std::vector<std::string> keys;
  std::map<std::string, std::string> initial_values;
  size_t keys_per_round = 20;
  // When set, every `fresh_key_every`-th round also creates fresh_key(round), a key never used
  // before (it must not exist).
  std::function<std::string(int64_t round)> fresh_key;
  int64_t fresh_key_every = 1;
  // The thread stops by itself after this long.
  absl::Duration max_duration = absl::Seconds(20);
};

// A client thread that keeps writing keys and reading them back until Stop() (or max_duration),
// and checks every reply. A round is one pipeline holding, per key: GET (must return the value
// this traffic wrote last, the initial value, or nil), SET to a new binary value (must be +OK),
// GET (must return that value). Any other reply, error replies and lost connections included, is
// a failure; failures are counted and the first ones described. After a lost connection it
// reconnects and no longer predicts the keys of the interrupted round.
class BackgroundTraffic {
 public:
  explicit BackgroundTraffic(TrafficOptions options);
  BackgroundTraffic(const BackgroundTraffic&) = delete;
  BackgroundTraffic& operator=(const BackgroundTraffic&) = delete;
  ~BackgroundTraffic();

  void Stop();
  int64_t rounds() const { return rounds_.load(); }
  int64_t failures() const { return failures_.load(); }
  // Descriptions of the first failures.
  std::vector<std::string> FailureSamples() const;
  // Waits until `n` more rounds have completed; false if that takes longer than `timeout` or the
  // traffic stopped first.
  bool WaitForRounds(int64_t n, absl::Duration timeout = absl::Seconds(10)) const;
  // The value each key should now hold (nullopt: unknown after a lost connection). Only after
  // Stop().
  std::map<std::string, std::optional<std::string>> ExpectedValues() const;

 private:
  // What a key should hold: nullopt = must not exist.
  struct Expectation {
    bool known = true;
    std::optional<std::string> value;
  };

  void Run();
  void Fail(std::string description);

  const TrafficOptions options_;
  std::map<std::string, Expectation> expected_;  // owned by the traffic thread until Stop()
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{true};
  std::atomic<int64_t> rounds_{0};
  std::atomic<int64_t> failures_{0};
  mutable std::mutex mu_;
  std::vector<std::string> samples_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace slotplane::integration
