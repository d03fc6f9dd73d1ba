#!/usr/bin/env bash
# Instructions per iteration of each micro-benchmark, counted by callgrind: the noise-free
# counterpart of slotplane_micro_bench's times, to compare builds on a busy machine. Each
# benchmark runs twice with a fixed iteration count (SLOTPLANE_BENCH_ITERATIONS), only its own
# function counted (--toggle-collect); the difference divided by the difference in iterations
# cancels its set-up. See README.md.
set -euo pipefail

usage() {
  cat <<'EOF2'
usage: tests/bench/micro_instructions.sh [BINARY...]

Prints a markdown table: one row per benchmark, one column per BINARY (default
build/bin/slotplane_micro_bench, built with -DSLOTPLANE_BENCH=ON) with its instructions per
iteration. Environment: BENCH_FILTER (a --benchmark_filter regex, default all).
EOF2
}

[[ ${1:-} == -h || ${1:-} == --help ]] && {
  usage
  exit 0
}

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
binaries=("$@")
((${#binaries[@]})) || binaries=("$root/build/bin/slotplane_micro_bench")
for bin in "${binaries[@]}"; do
  [[ -x $bin ]] || {
    printf 'micro_instructions: not found: %s (configure with -DSLOTPLANE_BENCH=ON)\n' "$bin" >&2
    exit 1
  }
done
command -v valgrind >/dev/null || {
  echo 'micro_instructions: valgrind not found (run scripts/bootstrap.sh)' >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

# collected BINARY NAME ITERATIONS: instructions executed inside the benchmark's function.
collected() {
  local fn=${2%%/*}
  SLOTPLANE_BENCH_ITERATIONS=$3 valgrind --tool=callgrind --callgrind-out-file="$work/out" \
    --toggle-collect="*::${fn}(*" "$1" --benchmark_filter="^$2(/iterations:[0-9]+)?\$" \
    >/dev/null 2>"$work/log"
  awk '/Collected :/ { print $NF }' "$work/log"
}

# per_iteration BINARY NAME: (Ir at 11000 iterations - Ir at 1000) / 10000.
per_iteration() {
  local low high
  low=$(collected "$1" "$2" 1000)
  high=$(collected "$1" "$2" 11000)
  awk -v a="$low" -v b="$high" 'BEGIN { printf "%.1f", (b - a) / 10000 }'
}

mapfile -t names < <("${binaries[0]}" --benchmark_list_tests \
  --benchmark_filter="${BENCH_FILTER:-.}")
header='| benchmark |'
rule='|---|'
for bin in "${binaries[@]}"; do
  header+=" ${bin#"$root"/} |"
  rule+='--:|'
done
printf '%s\n%s\n' "$header" "$rule"
for name in "${names[@]}"; do
  row="| $name |"
  for bin in "${binaries[@]}"; do row+=" $(per_iteration "$bin" "$name") |"; done
  printf '%s\n' "$row"
done
