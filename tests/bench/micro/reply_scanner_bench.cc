// Reply framing: a backend's stream of 16 pipelined replies, framed reply by reply as a backend
// connection does.

#include <string>

#include "benchmark/benchmark.h"
#include "dataplane/resp/reply_scanner.h"
#include "tests/bench/micro/fixed_iterations.h"

namespace slotplane::dataplane {
namespace {

std::string Repeat(const std::string& reply, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += reply;
  return out;
}

void ScanAll(benchmark::State& state, const std::string& stream, int64_t replies) {
  ReplyScanner scanner;
  for (auto _ : state) {
    const char* data = stream.data();
    size_t size = stream.size();
    while (scanner.Scan(data, size) == ScanStatus::kComplete) {
      data += scanner.frame_size();
      size -= scanner.frame_size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * replies);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

void BM_ScanBulkP16(benchmark::State& state) { ScanAll(state, Repeat("$3\r\nxxx\r\n", 16), 16); }
BENCHMARK(BM_ScanBulkP16)->Apply(bench::FixedIterations);

void BM_ScanOkP16(benchmark::State& state) { ScanAll(state, Repeat("+OK\r\n", 16), 16); }
BENCHMARK(BM_ScanOkP16)->Apply(bench::FixedIterations);

void BM_ScanArrayOf10Bulks(benchmark::State& state) {
  ScanAll(state, "*10\r\n" + Repeat("$100\r\n" + std::string(100, 'v') + "\r\n", 10), 1);
}
BENCHMARK(BM_ScanArrayOf10Bulks)->Apply(bench::FixedIterations);

}  // namespace
}  // namespace slotplane::dataplane
