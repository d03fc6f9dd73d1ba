#include "tests/faults/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace slotplane::faults {

int LatencyHistogram::BucketOf(int64_t micros) {
  if (micros <= 1) return 0;
  const int bucket = static_cast<int>(std::ceil(std::log(static_cast<double>(micros)) * 100.0));
  return std::min(bucket, kBuckets - 1);
}

int64_t LatencyHistogram::UpperBoundOf(int bucket) {
  return static_cast<int64_t>(std::exp(bucket / 100.0));
}

void LatencyHistogram::Record(int64_t micros) {
  ++buckets_[BucketOf(micros)];
  ++count_;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

int64_t LatencyHistogram::PercentileMicros(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<int64_t>(std::ceil(q * static_cast<double>(count_)));
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<int64_t>(rank, 1)) return std::min(UpperBoundOf(i), max_);
  }
  return max_;
}

}  // namespace slotplane::faults
