// Slot hashing: CRC16 over key-sized and longer inputs, and KeyHashSlot on the key shapes
// redis-benchmark sends ("key:" + 12 digits) with and without a hash tag.

#include <string>

#include "benchmark/benchmark.h"
#include "common/slot.h"
#include "tests/bench/micro/fixed_iterations.h"

namespace slotplane {
namespace {

std::string Bytes(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + i * 7 % 26);
  return data;
}

void BM_Crc16(benchmark::State& state) {
  const std::string data = Bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(Crc16(data));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc16)->Arg(3)->Arg(16)->Arg(64)->Arg(1024)->Apply(bench::FixedIterations);

void BM_KeyHashSlot(benchmark::State& state) {
  const std::string key = "key:000000123456";
  for (auto _ : state) {
    benchmark::DoNotOptimize(KeyHashSlot(key));
  }
}
BENCHMARK(BM_KeyHashSlot)->Apply(bench::FixedIterations);

void BM_KeyHashSlotTagged(benchmark::State& state) {
  const std::string key = "{user:1000}:followers";
  for (auto _ : state) {
    benchmark::DoNotOptimize(KeyHashSlot(key));
  }
}
BENCHMARK(BM_KeyHashSlotTagged)->Apply(bench::FixedIterations);

}  // namespace
}  // namespace slotplane
