#include "tests/faults/fault_load.h"

#include <algorithm>
#include <utility>

#include "common/slot.h"

namespace slotplane::faults {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kVerifyBatch = 256;

int64_t MicrosBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

// A hash tag for every slot, found once (decimal numbers cover all 16384 slots quickly).
const std::vector<std::string>& SlotTags() {
  static const std::vector<std::string>* const tags = [] {
    auto* table = new std::vector<std::string>(kSlotCount);
    int missing = kSlotCount;
    for (int n = 0; missing > 0; ++n) {
      std::string tag = std::to_string(n);
      std::string& entry = (*table)[KeyHashSlot(tag)];
      if (entry.empty()) {
        entry = std::move(tag);
        --missing;
      }
    }
    return table;
  }();
  return *tags;
}

// The load's keys: LoadKey(i) for i < options.keys whose slot the filter accepts.
std::vector<std::string> SelectKeys(const LoadOptions& options) {
  std::vector<std::string> keys;
  const int count = std::max(options.keys, 1);
  for (int i = 0; i < count; ++i) {
    std::string key = LoadKey(options.key_prefix, i, count);
    if (!options.slot_filter || options.slot_filter(KeyHashSlot(key))) keys.push_back(key);
  }
  return keys;
}

}  // namespace

std::string LoadKey(const std::string& prefix, int index, int count) {
  const int64_t slot =
      count >= kSlotCount ? index % kSlotCount : int64_t{index} * kSlotCount / count;
  return prefix + ":{" + SlotTags()[slot] + "}:" + std::to_string(index);
}

FaultLoad::FaultLoad(LoadOptions options)
    : options_(std::move(options)),
      keys_(SelectKeys(options_)),
      ledger_(keys_.size()),
      workers_(static_cast<size_t>(std::max(options_.connections, 1))) {}

FaultLoad::~FaultLoad() {
  Stop();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void FaultLoad::Start() {
  started_ = Clock::now();
  running_.store(static_cast<int>(workers_.size()));
  for (size_t i = 0; i < workers_.size(); ++i) {
    threads_.emplace_back([this, i] { RunWorker(static_cast<int>(i)); });
  }
}

void FaultLoad::RunWorker(int index) {
  Worker& worker = workers_[index];
  CommandSender sender(options_.sender);
  std::vector<size_t> own;
  for (size_t key = index; key < keys_.size(); key += workers_.size()) own.push_back(key);
  const Clock::time_point deadline = started_ + options_.duration;
  Clock::time_point last_ok = Clock::now();
  size_t cursor = 0;
  int64_t sequence = 0;
  std::vector<std::vector<std::string>> batch;
  std::vector<size_t> batch_keys;
  std::vector<bool> batch_reads;
  std::vector<int64_t> floors;
  while (!own.empty() && !stop_.load() && Clock::now() < deadline) {
    batch.clear();
    batch_keys.clear();
    batch_reads.clear();
    floors.clear();
    const int depth = index < options_.unpipelined_connections ? 1 : options_.pipeline;
    for (int i = 0; i < std::max(depth, 1); ++i) {
      const size_t key = own[cursor++ % own.size()];
      const bool is_read = options_.read_every > 0 && ++sequence % options_.read_every == 0;
      batch.push_back({is_read ? "GET" : "INCR", keys_[key]});
      batch_keys.push_back(key);
      batch_reads.push_back(is_read);
      floors.push_back(ledger_.max_ack(key));
    }
    const Clock::time_point sent = Clock::now();
    const std::vector<CommandResult> results = sender.Send(batch);
    bool failed = false;
    for (size_t i = 0; i < results.size(); ++i) {
      Record(worker, batch_keys[i], batch_reads[i], floors[i], results[i]);
      if (results[i].status == CommandResult::Status::kOk) {
        const Clock::time_point at = sent + std::chrono::microseconds(results[i].latency_micros);
        worker.max_stall_micros = std::max(worker.max_stall_micros, MicrosBetween(last_ok, at));
        last_ok = std::max(last_ok, at);
      }
      failed |= results[i].status != CommandResult::Status::kOk;
    }
    if (failed) std::this_thread::sleep_for(options_.error_backoff);
  }
  worker.max_stall_micros = std::max(worker.max_stall_micros, MicrosBetween(last_ok, Clock::now()));
  worker.redirects = sender.redirects();
  worker.connects = sender.connects();
  running_.fetch_sub(1);
}

void FaultLoad::Record(Worker& worker, size_t key, bool is_read, int64_t floor,
                       const CommandResult& result) {
  ++worker.commands;
  worker.latency.Record(result.latency_micros);
  if (result.status == CommandResult::Status::kOk) {
    ++worker.ok;
    acked_.fetch_add(1, std::memory_order_relaxed);
    if (is_read) {
      ledger_.OnRead(key, floor, result.value, worker.counts);
    } else {
      ledger_.OnIncrAck(key, result.value, worker.counts);
    }
    return;
  }
  ++worker.errors;
  failed_.fetch_add(1, std::memory_order_relaxed);
  ++worker.errors_by_kind[result.kind];
  if (worker.first_error.empty()) {
    worker.first_error = (is_read ? "GET " : "INCR ") + keys_[key] + ": " + result.message;
  }
  if (!is_read) ledger_.OnIncrUnknown(key);
}

void FaultLoad::Wait() {
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

LoadReport FaultLoad::Finish() {
  Stop();
  Wait();
  LoadReport report;
  report.seconds = static_cast<double>(MicrosBetween(started_, Clock::now())) / 1e6;
  LatencyHistogram latency;
  for (const Worker& worker : workers_) {
    latency.Merge(worker.latency);
    report.checks.Add(worker.counts);
    for (const auto& [kind, count] : worker.errors_by_kind) report.errors_by_kind[kind] += count;
    if (report.first_error.empty()) report.first_error = worker.first_error;
    report.commands += worker.commands;
    report.ok += worker.ok;
    report.errors += worker.errors;
    report.redirects += worker.redirects;
    report.connects += worker.connects;
    report.max_stall_micros = std::max(report.max_stall_micros, worker.max_stall_micros);
  }
  report.p50_micros = latency.PercentileMicros(0.50);
  report.p99_micros = latency.PercentileMicros(0.99);
  report.max_micros = latency.max_micros();
  if (!finished_) Verify(report);
  finished_ = true;
  return report;
}

void FaultLoad::Verify(LoadReport& report) {
  CommandSender reader(options_.verify_with_other_sender ? options_.verify_sender
                                                         : options_.sender);
  const Clock::time_point deadline = Clock::now() + options_.verify_timeout;
  std::vector<size_t> todo(keys_.size());
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  while (!todo.empty()) {
    std::vector<size_t> retry;
    for (size_t start = 0; start < todo.size(); start += kVerifyBatch) {
      const size_t end = std::min(todo.size(), start + kVerifyBatch);
      std::vector<std::vector<std::string>> gets;
      for (size_t i = start; i < end; ++i) gets.push_back({"GET", keys_[todo[i]]});
      const std::vector<CommandResult> results = reader.Send(gets);
      for (size_t i = start; i < end; ++i) {
        const CommandResult& result = results[i - start];
        if (result.status == CommandResult::Status::kOk) {
          ledger_.OnFinal(todo[i], true, result.value, report.checks);
        } else {
          retry.push_back(todo[i]);
        }
      }
    }
    todo = std::move(retry);
    if (todo.empty() || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (size_t key : todo) ledger_.OnFinal(key, false, 0, report.checks);
}

}  // namespace slotplane::faults
