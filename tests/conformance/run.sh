#!/usr/bin/env bash
# The differential conformance tester (README.md), in its two sizes:
#
#   tests/conformance/run.sh [run.py options]          CI size: the regression cases, then 2,500
#                                                       sequences (fixed seed), at most 150 s
#   tests/conformance/run.sh --long [run.py options]   100,000 sequences, seed from $SEED or the
#                                                       clock (printed), no time limit
#
# --long runs $JOBS processes (default 1), each with its own servers, over disjoint ranges of the
# same seed's sequence indices: the same 100,000 sequences whatever JOBS is.
# The proxy binary: --proxy PATH, else $SLOTPLANE_PROXY, else build/bin/slotplane-proxy. Later
# options override the defaults (e.g. --seed 7, --protocol 3). Exit code: run.py's (the largest
# over the jobs).
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

if [[ ${1:-} != --long ]]; then
  exec python3 "$here/run.py" --seed "${SEED:-20261207}" --sequences 2500 --length 20 \
    --max-seconds 150 --max-failures 1 --no-write --quiet "$@"
fi
shift
seed=${SEED:-$(date +%s)}
total=100000
jobs=${JOBS:-1}
per=$(((total + jobs - 1) / jobs))
echo "conformance --long: seed $seed, $total sequences, $jobs job(s)"
pids=()
for ((j = 0; j < jobs; j++)); do
  first=$((j * per))
  count=$((first + per > total ? total - first : per))
  (
    python3 "$here/run.py" --seed "$seed" --first "$first" --sequences "$count" --length 20 \
      --quiet "$@" 2>&1 | sed -u "s/^/[job $j] /"
    exit "${PIPESTATUS[0]}"
  ) &
  pids+=("$!")
done
rc=0
for pid in "${pids[@]}"; do
  wait "$pid" || { code=$?; ((code > rc)) && rc=$code; }
done
exit "$rc"
