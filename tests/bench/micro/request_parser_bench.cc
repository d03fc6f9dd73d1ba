// Request parsing: a pipeline of 16 commands in one buffer, parsed command by command as a
// client session does (parse, drop command_size() bytes, parse again). Bytes/s is the client's
// request stream.

#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "dataplane/resp/request_parser.h"
#include "tests/bench/micro/fixed_iterations.h"

namespace slotplane::dataplane {
namespace {

std::string Multibulk(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return out;
}

std::string Pipeline(const std::string& command, int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) out += command;
  return out;
}

void ParseAll(benchmark::State& state, const std::string& stream, int64_t commands) {
  RequestParser parser;
  for (auto _ : state) {
    const char* data = stream.data();
    size_t size = stream.size();
    for (;;) {
      const ParseStatus status = parser.Parse(data, size);
      data += parser.skipped_bytes();
      size -= parser.skipped_bytes();
      if (status != ParseStatus::kCommand) break;
      benchmark::DoNotOptimize(parser.args().data());
      data += parser.command_size();
      size -= parser.command_size();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * commands);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

void BM_ParseGetP16(benchmark::State& state) {
  ParseAll(state, Pipeline(Multibulk({"GET", "key:000000123456"}), 16), 16);
}
BENCHMARK(BM_ParseGetP16)->Apply(bench::FixedIterations);

void BM_ParseSetP16(benchmark::State& state) {
  ParseAll(state, Pipeline(Multibulk({"SET", "key:000000123456", "xxx"}), 16), 16);
}
BENCHMARK(BM_ParseSetP16)->Apply(bench::FixedIterations);

void BM_ParseMset10(benchmark::State& state) {
  std::vector<std::string> args = {"MSET"};
  for (int i = 0; i < 10; ++i) {
    args.push_back("key:00000012345" + std::to_string(i));
    args.push_back(std::string(100, 'v'));
  }
  ParseAll(state, Multibulk(args), 1);
}
BENCHMARK(BM_ParseMset10)->Apply(bench::FixedIterations);

void BM_ParseInlinePing(benchmark::State& state) { ParseAll(state, Pipeline("PING\r\n", 16), 16); }
BENCHMARK(BM_ParseInlinePing)->Apply(bench::FixedIterations);

// A GET that arrives in two reads: the first ends inside the key.
void BM_ParseGetSplit(benchmark::State& state) {
  const std::string command = Multibulk({"GET", "key:000000123456"});
  const size_t cut = command.size() - 6;
  RequestParser parser;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.Parse(command.data(), cut));
    benchmark::DoNotOptimize(parser.Parse(command.data(), command.size()));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseGetSplit)->Apply(bench::FixedIterations);

}  // namespace
}  // namespace slotplane::dataplane
