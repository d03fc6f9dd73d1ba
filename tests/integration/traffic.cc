#include "tests/integration/traffic.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/integration/test_client.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

constexpr size_t kMaxSamples = 10;

Reply ExpectedGet(const std::optional<std::string>& value) {
  return value.has_value() ? Reply::String(*value) : Reply::Nil();
}

}  // namespace

BackgroundTraffic::BackgroundTraffic(TrafficOptions options) : options_(std::move(options)) {
  for (const std::string& key : options_.keys) {
    Expectation& e = expected_[key];
    const auto it = options_.initial_values.find(key);
    if (it != options_.initial_values.end()) e.value = it->second;
  }
  thread_ = std::thread([this] { Run(); });
}

BackgroundTraffic::~BackgroundTraffic() { Stop(); }

void BackgroundTraffic::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> BackgroundTraffic::FailureSamples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_;
}

bool BackgroundTraffic::WaitForRounds(int64_t n, absl::Duration timeout) const {
  const int64_t target = rounds() + n;
  return WaitFor([&] { return rounds() >= target || !running_; }, timeout) && rounds() >= target;
}

std::map<std::string, std::optional<std::string>> BackgroundTraffic::ExpectedValues() const {
  std::map<std::string, std::optional<std::string>> out;
  for (const auto& [key, e] : expected_) {
    if (e.known) out[key] = e.value;
  }
  return out;
}

void BackgroundTraffic::Fail(std::string description) {
  ++failures_;
  std::lock_guard<std::mutex> lock(mu_);
  if (samples_.size() < kMaxSamples) samples_.push_back(std::move(description));
}

void BackgroundTraffic::Run() {
  const absl::Time deadline = absl::Now() + options_.max_duration;
  std::unique_ptr<TestClient> client;
  size_t next_key = 0;
  for (int64_t round = 0; !stop_ && absl::Now() < deadline; ++round) {
    if (client == nullptr || !client->connected()) {
      absl::StatusOr<std::unique_ptr<TestClient>> connected =
          TestClient::Connect("127.0.0.1", options_.port);
      if (!connected.ok()) {
        Fail(absl::StrCat("round ", round, ": ", connected.status().ToString()));
        absl::SleepFor(absl::Milliseconds(50));  // pace reconnection attempts; bounded by deadline
        continue;
      }
      client = *std::move(connected);
    }
    std::vector<std::string> batch;
    for (size_t i = 0; i < options_.keys_per_round && !options_.keys.empty(); ++i) {
      batch.push_back(options_.keys[next_key++ % options_.keys.size()]);
    }
    if (options_.fresh_key && round % options_.fresh_key_every == 0) {
      batch.push_back(options_.fresh_key(round));
      expected_[batch.back()] = Expectation{};
    }
    std::vector<std::string> values;
    for (const std::string& key : batch) {
      values.push_back(absl::StrCat(key, "#", round, std::string("\0\r\n", 3)));
      client->Append({"GET", key});
      client->Append({"SET", key, values.back()});
      client->Append({"GET", key});
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      Expectation& e = expected_[batch[i]];
      const Reply before = client->GetReply();
      const Reply set = client->GetReply();
      const Reply after = client->GetReply();
      const auto check = [&](const char* what, const Reply& got, const Reply& want) {
        if (got == want) return;
        Fail(absl::StrCat("round ", round, " key ", Reply::String(batch[i]).DebugString(), " ",
                          what, ": expected ", want.DebugString(), ", got ", got.DebugString()));
      };
      if (e.known) check("GET before SET", before, ExpectedGet(e.value));
      check("SET", set, Reply::Status("OK"));
      check("GET after SET", after, Reply::String(values[i]));
      // After a failed SET (a lost connection above all) the key's value is not known any more.
      e.known = set == Reply::Status("OK");
      e.value = values[i];
    }
    ++rounds_;
  }
  running_ = false;
}

}  // namespace slotplane::integration
