#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "dataplane/core/worker_stats.h"

namespace slotplane::dataplane {

// Upper bounds of the latency buckets, in seconds as Prometheus shows them (`le`), from 50 µs (a
// pipelined GET on loopback) to 10 s (a blocking command); +Inf is implied.
inline constexpr std::array<double, 16> kLatencyBucketBounds = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};

// The same bounds in nanoseconds, what LatencyHistogram compares with.
constexpr std::array<uint64_t, kLatencyBucketBounds.size()> LatencyBoundsNs() {
  std::array<uint64_t, kLatencyBucketBounds.size()> ns{};
  for (size_t i = 0; i < ns.size(); ++i) {
    ns[i] = static_cast<uint64_t>(kLatencyBucketBounds[i] * 1e9 + 0.5);
  }
  return ns;
}
inline constexpr std::array<uint64_t, kLatencyBucketBounds.size()> kLatencyBoundsNs =
    LatencyBoundsNs();

// kLatencyFirstBucketOfPower[k]: the bucket of 2^k, the smallest value with k + 1 bits (see
// LatencyHistogram::BucketOf).
constexpr std::array<uint8_t, 64> LatencyFirstBucketOfPower() {
  std::array<uint8_t, 64> first{};
  for (size_t k = 0; k < first.size(); ++k) {
    const uint64_t value = uint64_t{1} << k;
    uint8_t i = 0;
    while (i < kLatencyBoundsNs.size() && value > kLatencyBoundsNs[i]) ++i;
    first[k] = i;
  }
  return first;
}
inline constexpr std::array<uint8_t, 64> kLatencyFirstBucketOfPower = LatencyFirstBucketOfPower();

// A Prometheus histogram with one writer (its worker thread) and any number of readers (the
// scrape), built from Counters: recording is a table lookup, a comparison or two and two relaxed
// stores, with no lock, no read-modify-write and no allocation. Readers sum the workers'
// histograms; a scrape racing a record may see the bucket before the sum, which Prometheus
// tolerates.
class LatencyHistogram {
 public:
  static constexpr size_t kBuckets = kLatencyBucketBounds.size() + 1;  // the last one is +Inf

  void Record(uint64_t nanoseconds) {
    buckets_[BucketOf(nanoseconds)].Add();
    sum_ns_.Add(nanoseconds);
  }

  // The first bucket whose bound is >= `nanoseconds` (kBuckets - 1: +Inf). Starts at the bucket
  // of the value's power of two: the bounds are at least twice apart, so at most one more
  // comparison follows, whatever the latency (a scan from the first bucket took one per bucket).
  static size_t BucketOf(uint64_t nanoseconds) {
    size_t i = kLatencyFirstBucketOfPower[63 - __builtin_clzll(nanoseconds | 1)];
    while (i < kLatencyBoundsNs.size() && nanoseconds > kLatencyBoundsNs[i]) ++i;
    return i;
  }

  // Observations in bucket i (not cumulative), and the sum of all observed values.
  uint64_t bucket(size_t i) const { return buckets_[i].Get(); }
  uint64_t sum_ns() const { return sum_ns_.Get(); }

 private:
  std::array<Counter, kBuckets> buckets_;
  Counter sum_ns_;
};

}  // namespace slotplane::dataplane
