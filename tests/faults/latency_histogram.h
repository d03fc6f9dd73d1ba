#pragma once

// A fixed-size latency histogram with about 1% resolution from 1 µs to over 100 s, so a
// one-hour run records every operation in constant memory. Owned by one thread; Merge() adds
// another thread's histogram once both are done.

#include <array>
#include <cstdint>

namespace slotplane::faults {

class LatencyHistogram {
 public:
  void Record(int64_t micros);
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  int64_t max_micros() const { return max_; }
  // The smallest recorded-bucket upper bound at or above the fraction `q` (0..1) of the
  // recordings; 0 when empty.
  int64_t PercentileMicros(double q) const;

 private:
  // Bucket i holds latencies in [exp((i-1)/100), exp(i/100)) µs; 1900 buckets reach ~1.8e8 µs.
  static constexpr int kBuckets = 1900;
  static int BucketOf(int64_t micros);
  static int64_t UpperBoundOf(int bucket);

  std::array<int64_t, kBuckets> buckets_{};
  int64_t count_ = 0;
  int64_t max_ = 0;
};

}  // namespace slotplane::faults
