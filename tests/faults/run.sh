#!/usr/bin/env bash
# Runs fault scenarios from an existing build directory (builds nothing) and prints their table.
#
#   tests/faults/run.sh [--build DIR] [--long] [--measure] [--doc] [scenario...]
#
# scenario: 1..9 (see README.md); none: all. --build defaults to build/ at the repository root.
# --long runs the issue's long variants (control plane down 60 s, 1-hour soak; either length set in
# SLOTPLANE_FAULTS_CONTROL_DOWN_SECONDS / SLOTPLANE_FAULTS_SOAK_SECONDS beforehand wins); --measure runs scenarios 1 and 6
# even when slotplane-proxy lacks the options they need (figures only); --doc writes the table,
# the command and the machine to docs/reliability.md.
# Each scenario's load appends one JSON line to a report file; the table is made from it.
set -uo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
build=$root/build
doc=
command_line="tests/faults/run.sh $*"
scenarios=()
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --long)
      export SLOTPLANE_FAULTS_CONTROL_DOWN_SECONDS=${SLOTPLANE_FAULTS_CONTROL_DOWN_SECONDS:-60}
      export SLOTPLANE_FAULTS_SOAK_SECONDS=${SLOTPLANE_FAULTS_SOAK_SECONDS:-3600}
      shift ;;
    --measure) export SLOTPLANE_FAULTS_MEASURE=1; shift ;;
    --doc) doc=$root/docs/reliability.md; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    [1-9]) scenarios+=("$1"); shift ;;
    *) printf 'run.sh: unknown argument %s\n' "$1" >&2; exit 2 ;;
  esac
done
((${#scenarios[@]})) || scenarios=(1 2 3 4 5 6 7 8 9)

# scenario -> "binary gtest-filter"
declare -A target=(
  [1]="faults_failover_test *MasterKilled*"
  [2]="faults_failover_test *ClusterFailoverGraceful"
  [3]="faults_reshard_test *Reshard4000SlotsThenRebalance"
  [4]="faults_reshard_test *AddMasterAndReplicaMoveSlotsRemoveOldMaster"
  [5]="faults_control_test *"
  [6]="faults_failover_test *MasterStoppedLongerThanBackendTimeout"
  [7]="faults_failover_test *ReplicaKilledWithPreferReplica"
  [8]="faults_clients_test *"
  [9]="faults_soak_test *"
)

# A report file given in SLOTPLANE_FAULTS_REPORT is appended to and kept (runs done in parts,
# such as a soak run on its own, end up in one table); otherwise a temporary one is used.
logs=$(mktemp -d "${TMPDIR:-/tmp}/slotplane-faults-logs.XXXXXX")
if [[ -n ${SLOTPLANE_FAULTS_REPORT:-} ]]; then
  report=$SLOTPLANE_FAULTS_REPORT
else
  report=$(mktemp "${TMPDIR:-/tmp}/slotplane-faults.XXXXXX")
  trap 'rm -f "$report"' EXIT
  export SLOTPLANE_FAULTS_REPORT=$report
fi
status=0
declare -A outcome
for s in "${scenarios[@]}"; do
  read -r binary filter <<<"${target[$s]}"
  exe=$build/tests/$binary
  if [[ ! -x $exe ]]; then
    printf 'run.sh: %s not built (cmake -DSLOTPLANE_TESTS=ON, ninja %s)\n' "$exe" "$binary" >&2
    exit 2
  fi
  printf '== scenario %s: %s --gtest_filter=%s\n' "$s" "$binary" "$filter"
  start=$SECONDS
  if "$exe" --gtest_filter="$filter" >"$logs/$s.log" 2>&1; then
    if grep -q '\[  SKIPPED \]' "$logs/$s.log"; then outcome[$s]=skipped; else outcome[$s]=passed; fi
  else
    outcome[$s]=FAILED
    status=1
  fi
  printf '   %s in %ss (log %s)\n' "${outcome[$s]}" "$((SECONDS - start))" "$logs/$s.log"
done

echo
printf '%-32s %8s %9s %9s %10s %6s %6s  %s\n' scenario errors p99_ms max_ms stall_ms lost dup \
  'errors by kind'
python3 - "$report" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    kinds = "; ".join(f"{n} {k}" for k, n in sorted(r["errors_by_kind"].items(), key=lambda x: -x[1]))
    print(f'{r["name"]:<32} {r["errors"]:>8} {r["p99_ms"]:>9.1f} {r["max_ms"]:>9.1f} '
          f'{r["max_stall_ms"]:>10.1f} {r["lost_writes"]:>6} {r["unexpected_increments"]:>6}  '
          f'{kinds or "-"}')
PY
echo
for s in "${scenarios[@]}"; do printf 'scenario %s: %s\n' "$s" "${outcome[$s]}"; done
if [[ -n $doc ]]; then
  outcomes=$(for s in "${scenarios[@]}"; do printf '%s=%s ' "$s" "${outcome[$s]}"; done)
  machine="$(uname -srm); $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM; $(redis-server --version | cut -d' ' -f1-3)"
  revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
  python3 "$root/tests/faults/reliability_doc.py" "$report" "$doc" "$command_line" "$machine" \
    "$revision" "$outcomes" "${SLOTPLANE_FAULTS_CONTROL_DOWN_SECONDS:-10}" \
    "${SLOTPLANE_FAULTS_SOAK_SECONDS:-45}"
  printf 'wrote %s\n' "$doc"
fi
exit $status
