#!/usr/bin/env bash
# Builds the fuzzers with clang and runs each for N seconds (default 30).
# Usage: tests/fuzz/run.sh [seconds]
# Env: BUILD_DIR (default <repo>/build-fuzz), JOBS (default 2).
# New inputs go to a working corpus under the build dir; the seed corpus in the repo is read only.
# Exits non-zero if a build fails or a fuzzer finds a crash (artifacts under $BUILD_DIR/fuzz/).
set -euo pipefail

seconds="${1:-30}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
build="${BUILD_DIR:-${repo}/build-fuzz}"
jobs="${JOBS:-2}"

CC=clang CXX=clang++ cmake -S "${repo}" -B "${build}" -G Ninja -DSLOTPLANE_FUZZ=ON \
  -DSLOTPLANE_TESTS=ON >/dev/null
ninja -C "${build}" -j "${jobs}" request_parser_fuzz reply_scanner_fuzz command_split_fuzz

for target in request_parser reply_scanner command_split; do
  work="${build}/fuzz/corpus/${target}"
  mkdir -p "${work}"
  dict="${here}/dict/resp.dict"
  [[ ${target} == command_split ]] && dict="${here}/dict/command.dict"
  echo "== ${target}_fuzz for ${seconds}s"
  (cd "${build}/fuzz" && "./${target}_fuzz" -max_total_time="${seconds}" -print_final_stats=1 \
    -dict="${dict}" "${work}" "${here}/corpus/${target}")
done
