#!/usr/bin/env bash
# The differential conformance tester (README.md), in its two sizes:
#
#   tests/conformance/run.sh [run.py options]          CI size: the regression cases, then 2,500
#                                                       sequences (fixed seed), at most 150 s
#   tests/conformance/run.sh --long [run.py options]   100,000 sequences, seed from $SEED or the
#                                                       clock (printed), no time limit
#
# The proxy binary: --proxy PATH, else $SLOTPLANE_PROXY, else build/bin/slotplane-proxy. Later
# options override the defaults (e.g. --seed 7, --protocol 3). Exit code: run.py's.
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

if [[ ${1:-} == --long ]]; then
  shift
  seed=${SEED:-$(date +%s)}
  echo "conformance --long: seed $seed"
  exec python3 "$here/run.py" --seed "$seed" --sequences 100000 --length 20 --quiet "$@"
fi
exec python3 "$here/run.py" --seed "${SEED:-20261207}" --sequences 2500 --length 20 \
  --max-seconds 150 --max-failures 1 --no-write --quiet "$@"
