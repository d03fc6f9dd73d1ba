// Reducers: merging the per-slot parts of a split MGET back into key order, and summing a
// fanned-out DEL.

#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/scatter/reducers.h"
#include "tests/bench/micro/fixed_iterations.h"

namespace slotplane::dataplane {
namespace {

// MGET of 12 keys split over 3 nodes (keys dealt round robin), 16-byte values.
void BM_MergeMgetByKeyOrder(benchmark::State& state) {
  constexpr int kParts = 3;
  constexpr int kKeys = 12;
  reduce::Replies replies(kParts);
  std::vector<uint32_t> key_parts;
  for (int p = 0; p < kParts; ++p) resp::AppendArrayHeader(&replies[p], kKeys / kParts);
  for (int k = 0; k < kKeys; ++k) {
    key_parts.push_back(static_cast<uint32_t>(k % kParts));
    resp::AppendBulk(&replies[k % kParts], "value-" + std::to_string(1000000000 + k));
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    reduce::MergeByKeyOrder(replies, key_parts, "mget", &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kKeys);
}
BENCHMARK(BM_MergeMgetByKeyOrder)->Apply(bench::FixedIterations);

void BM_SumIntegers(benchmark::State& state) {
  const reduce::Replies replies = {":3\r\n", ":0\r\n", ":12\r\n"};
  std::string out;
  for (auto _ : state) {
    out.clear();
    reduce::SumIntegers(replies, "del", &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_SumIntegers)->Apply(bench::FixedIterations);

}  // namespace
}  // namespace slotplane::dataplane
