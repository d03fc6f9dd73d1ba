#pragma once

#include <cstdlib>

#include "benchmark/benchmark.h"

namespace slotplane::bench {

// Applied to every micro-benchmark: with SLOTPLANE_BENCH_ITERATIONS=N in the environment each one
// runs exactly N iterations instead of as many as fit its minimum time, so that
// tests/bench/micro_instructions.sh can count instructions per iteration under callgrind (the
// noise-free figure). Without the variable, Google Benchmark's timing decides as usual.
inline void FixedIterations(benchmark::internal::Benchmark* benchmark) {
  if (const char* n = std::getenv("SLOTPLANE_BENCH_ITERATIONS")) {
    benchmark->Iterations(std::strtoll(n, nullptr, 10));
  }
}

}  // namespace slotplane::bench
