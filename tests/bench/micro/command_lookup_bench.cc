// Command lookup: CommandTable::Find for the commands a cache workload sends, in the case
// clients send them (upper), for every command of the table in mixed case, and for names that
// are not commands.

#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "dataplane/command/command_table.h"
#include "tests/bench/micro/fixed_iterations.h"

namespace slotplane::dataplane {
namespace {

void BM_FindGet(benchmark::State& state) {
  const CommandTable& table = CommandTable::Get();
  const std::string name = "GET";
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Find(name));
  }
}
BENCHMARK(BM_FindGet)->Apply(bench::FixedIterations);

void BM_FindLongName(benchmark::State& state) {
  const CommandTable& table = CommandTable::Get();
  const std::string name = "ZRANGEBYSCORE";
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Find(name));
  }
}
BENCHMARK(BM_FindLongName)->Apply(bench::FixedIterations);

// Every top-level name, alternately upper and lower case, looked up in turn.
void BM_FindEveryCommand(benchmark::State& state) {
  const CommandTable& table = CommandTable::Get();
  std::vector<std::string> names;
  for (const CommandInfo* info : table.All()) {
    std::string name = info->name;
    if (names.size() % 2 == 0) {
      for (char& c : name) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    names.push_back(std::move(name));
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Find(names[i]));
    i = i + 1 == names.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_FindEveryCommand)->Apply(bench::FixedIterations);

void BM_FindUnknown(benchmark::State& state) {
  const CommandTable& table = CommandTable::Get();
  const std::vector<std::string> names = {"GETX", "foo", "SETT", "ZRANGEBYSCOREX", "x"};
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Find(names[i]));
    i = i + 1 == names.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_FindUnknown)->Apply(bench::FixedIterations);

void BM_FindSubcommand(benchmark::State& state) {
  const CommandTable& table = CommandTable::Get();
  const CommandInfo* config = table.Find("config");
  const std::string name = "GET";
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.FindSubcommand(*config, name));
  }
}
BENCHMARK(BM_FindSubcommand)->Apply(bench::FixedIterations);

}  // namespace
}  // namespace slotplane::dataplane
