#!/usr/bin/env bash
# Configures and builds all of slotplane with CMake and Ninja.
#
#   scripts/build.sh [build-dir] [extra cmake args...]
#
# build-dir defaults to build/ at the repository root; binaries land in <build-dir>/bin.
# The build type defaults to RelWithDebInfo on a fresh build directory; SLOTPLANE_BUILD_TYPE
# overrides it (also on an existing one). SLOTPLANE_JOBS sets the parallelism (default: cores).
# SLOTPLANE_BUILD_TARGETS (space-separated) builds only those targets, e.g. the three binaries
# for the local demo; the configuration is unchanged, so a later full build adds the rest.
# Example: scripts/build.sh build-asan -DSLOTPLANE_SANITIZE=ON
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

build_dir=$root/build
if (($#)) && [[ $1 != -* ]]; then
  build_dir=$1
  shift
fi

for tool in cmake ninja; do
  command -v "$tool" >/dev/null 2>&1 || {
    printf 'build: error: %s not found (run scripts/bootstrap.sh)\n' "$tool" >&2
    exit 1
  }
done

configure=(-S "$root" -B "$build_dir")
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  configure+=(-G Ninja -DCMAKE_BUILD_TYPE="${SLOTPLANE_BUILD_TYPE:-RelWithDebInfo}")
elif [[ -n ${SLOTPLANE_BUILD_TYPE:-} ]]; then
  configure+=(-DCMAKE_BUILD_TYPE="$SLOTPLANE_BUILD_TYPE")
fi

jobs=${SLOTPLANE_JOBS:-$(nproc 2>/dev/null || echo 2)}

printf 'build: configuring %s\n' "$build_dir"
cmake "${configure[@]}" "$@"
targets=()
if [[ -n ${SLOTPLANE_BUILD_TARGETS:-} ]]; then
  read -r -a names <<<"$SLOTPLANE_BUILD_TARGETS"
  targets=(--target "${names[@]}")
fi
printf 'build: building %s with %s jobs\n' "${SLOTPLANE_BUILD_TARGETS:-everything}" "$jobs"
cmake --build "$build_dir" --parallel "$jobs" "${targets[@]}"
printf 'build: done; binaries in %s/bin\n' "$build_dir"
