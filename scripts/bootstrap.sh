#!/usr/bin/env bash
# Installs the Debian packages slotplane needs to build, test, fuzz, run its local demo cluster
# and check its deployment files. Idempotent: checks each package with dpkg-query and runs
# apt-get (update + install) only when something is missing. Uses sudo when not run as root.
#
#   scripts/bootstrap.sh               everything below
#   scripts/bootstrap.sh --build-only  BUILD_PACKAGES only: what scripts/build.sh needs to build
#                                      the three binaries (-DSLOTPLANE_TESTS=OFF); the Dockerfile
#                                      uses this
#
# The redis-server and etcd-server packages ship system services. slotplane never uses them (its
# clusters and the tests' etcd members run on their own loopback ports), and the install keeps
# them from being started: if the host has no /usr/sbin/policy-rc.d, one that forbids service
# starts is put in place for the duration of the install and removed afterwards.
set -euo pipefail

# Building the binaries (scripts/build.sh -DSLOTPLANE_TESTS=OFF); git gives --version and
# *_build_info their revision when the tree is a checkout ("unknown" otherwise).
BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libhiredis-dev prometheus-cpp-dev libssl-dev liburing-dev
)
# Development: tests, micro-benchmarks (-DSLOTPLANE_BENCH=ON), fuzzing, formatting, the local demo.
PACKAGES=(
  "${BUILD_PACKAGES[@]}" libgtest-dev libbenchmark-dev
  redis-server redis-tools python3 python3-redis etcd-server etcd-client
  clang clang-format libclang-rt-14-dev valgrind procps shellcheck curl
)
# Deploy checks (scripts/check_k8s.py, scripts/check_dockerfile.sh): kubectl (its built-in
# kustomize) and PyYAML. A kubectl from another Debian package (e.g. `kubectl`, which ships
# /usr/bin/kubectl too and conflicts with kubernetes-client) satisfies kubernetes-client.
DEPLOY_CHECK_PACKAGES=(kubernetes-client python3-yaml)
# Monitoring checks (scripts/check_monitoring.sh): promtool (check and unit-test the alert rules)
# and the Prometheus server itself (a real scrape of a running proxy and control plane), both in
# Debian's `prometheus` package. Its system service is never started (see above).
DEPLOY_CHECK_PACKAGES+=(prometheus)
PACKAGES+=("${DEPLOY_CHECK_PACKAGES[@]}")
# Client matrix (tests/clients): Node.js and npm run the npm client libraries (ioredis,
# node-redis), which tests/clients/install.sh installs with `npm ci`. An npm already on PATH (e.g.
# the one NodeSource's nodejs package ships, which conflicts with Debian's npm) satisfies npm.
NODE_PACKAGES=(nodejs npm)
PACKAGES+=("${NODE_PACKAGES[@]}")

case ${1:-} in
  "") ;;
  --build-only) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    printf 'bootstrap: error: unknown argument %s (try --build-only)\n' "$1" >&2
    exit 1
    ;;
esac

say() { printf 'bootstrap: %s\n' "$*"; }
die() {
  printf 'bootstrap: error: %s\n' "$*" >&2
  exit 1
}

installed() {
  if [[ $1 == kubernetes-client ]] && installed kubectl; then
    return 0
  fi
  if [[ $1 == npm ]] && command -v npm >/dev/null 2>&1; then
    return 0
  fi
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    installed "$pkg" || printf '%s\n' "$pkg"
  done
}

command -v dpkg-query >/dev/null 2>&1 ||
  die "dpkg-query not found: this script supports Debian bookworm (and close relatives) only"

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
  say "all ${#PACKAGES[@]} packages are installed"
  exit 0
fi
say "missing: ${missing[*]}"

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these by hand: ${missing[*]}"
SUDO=()
if ((EUID != 0)); then
  command -v sudo >/dev/null 2>&1 || die "not root and sudo is not installed; run as root: $0"
  SUDO=(sudo)
fi
as_root() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@"; }

log=$(mktemp "${TMPDIR:-/tmp}/slotplane-bootstrap.XXXXXX")
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if ((created_policy)); then
    as_root rm -f "$policy" || printf 'bootstrap: warning: could not remove %s\n' "$policy" >&2
  fi
  rm -f "$log"
}
trap cleanup EXIT

if [[ ! -e $policy ]]; then
  # Exit code 101 tells invoke-rc.d / deb-systemd-invoke not to start services.
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' >'$policy' && chmod 755 '$policy'" ||
    die "could not write $policy"
  created_policy=1
fi

run_apt() {
  if ! as_root apt-get -q -y -o Dpkg::Use-Pty=0 "$@" >>"$log" 2>&1; then
    printf 'bootstrap: error: apt-get %s failed; last lines of its output:\n' "$1" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

say "apt-get update"
run_apt update
say "apt-get install ${missing[*]}"
run_apt install --no-install-recommends "${missing[@]}"

mapfile -t still < <(missing_packages)
((${#still[@]} == 0)) || die "still missing after apt-get install: ${still[*]}"
say "installed ${#missing[@]} package(s)"
