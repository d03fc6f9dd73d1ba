#!/usr/bin/env bash
# Sets up, builds and runs every slotplane test: unit tests and integration tests against real
# redis-server processes in cluster mode on free loopback ports (the tests start and stop them).
#
#   scripts/test.sh [build-dir] [extra cmake args...]
#
# SLOTPLANE_TEST_LABEL=unit|integration runs one layer only; SLOTPLANE_SKIP_BOOTSTRAP=1 skips the
# package check. Extra cmake args select variants, e.g. `scripts/test.sh build-asan
# -DSLOTPLANE_SANITIZE=ON` for the AddressSanitizer + UBSan build.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$root/build
if (($#)) && [[ $1 != -* ]]; then
  build_dir=$1
  shift
fi

if [[ ${SLOTPLANE_SKIP_BOOTSTRAP:-0} != 1 ]]; then
  "$root/scripts/bootstrap.sh"
fi
"$root/scripts/build.sh" "$build_dir" -DSLOTPLANE_TESTS=ON "$@"

ctest_args=(--test-dir "$build_dir" --output-on-failure --no-tests=error)
ctest_args+=(--parallel "${SLOTPLANE_TEST_JOBS:-2}")
if [[ -n ${SLOTPLANE_TEST_LABEL:-} ]]; then
  ctest_args+=(-L "$SLOTPLANE_TEST_LABEL")
fi
ctest "${ctest_args[@]}"
