#!/usr/bin/env bash
# Instructions slotplane-proxy executes per proxied request, counted by callgrind: the noise-free
# figure (repeatable for the same binary and load, whatever else the machine does). Starts its
# own cluster on its own ports, runs each proxy binary with one worker thread under callgrind,
# warms it up, zeroes the counters, sends the load with redis-benchmark and dumps the counters.
# Always stops what it started. See README.md.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/local/cluster_lib.sh
source "$here/../../deploy/local/cluster_lib.sh"

usage() {
  cat <<'EOF'
usage: tests/bench/callgrind_requests.sh [BINARY...]

Prints, for each proxy BINARY (default build/bin/slotplane-proxy) and each case, the proxy's
user-space instructions per request (Ir, kernel excluded). With BENCH_TOP=N, then the N functions
with the most instructions of their own (self Ir) per request in each case, from callgrind_annotate.

Environment: BENCH_REQUESTS (requests per case, 100000), BENCH_PIPELINES ("1 16"),
BENCH_TESTS ("get set"), BENCH_CLIENTS (50), BENCH_TOP (0), BENCH_BASE_PORT (7201; nodes use
BASE..BASE+5), BENCH_PROXY_PORT (7277), BENCH_RUN_DIR (.run/callgrind).
EOF
}

[[ ${1:-} == -h || ${1:-} == --help ]] && {
  usage
  exit 0
}

requests=${BENCH_REQUESTS:-100000}
read -r -a pipelines <<<"${BENCH_PIPELINES:-1 16}"
read -r -a tests <<<"${BENCH_TESTS:-get set}"
clients=${BENCH_CLIENTS:-50}
top=${BENCH_TOP:-0}
base_port=${BENCH_BASE_PORT:-7201}
proxy_port=${BENCH_PROXY_PORT:-7277}
run_dir=${BENCH_RUN_DIR:-$SP_ROOT/.run/callgrind}
binaries=("$@")
((${#binaries[@]})) || binaries=("$SP_ROOT/build/bin/slotplane-proxy")

for var in requests clients base_port proxy_port; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || sp_die "$var must be a positive integer, got '${!var}'"
done
[[ $top =~ ^[0-9]+$ ]] || sp_die "BENCH_TOP must be a number, got '$top'"
sp_require_cmds redis-server redis-cli redis-benchmark valgrind callgrind_control \
  callgrind_annotate timeout awk
for bin in "${binaries[@]}"; do
  [[ -x $bin ]] || sp_die "proxy binary not found: $bin"
done

proxy_pid=
finish() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $proxy_pid ]] && kill -TERM "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  [[ -d $run_dir ]] && sp_cluster_stop "$run_dir" >/dev/null 2>&1
  ((rc == 0)) && rm -rf -- "$run_dir"
  exit "$rc"
}
[[ -d $run_dir ]] && sp_die "$run_dir exists: another run is going on, or remove it"
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sp_log "starting a cluster on 127.0.0.1:$base_port-$((base_port + 5))"
sp_cluster_up "$run_dir" "$base_port" 6 >/dev/null || sp_die "the cluster did not come up"

# The dumps `callgrind_control -d` wrote in DIR (dump part 1, one file per thread with
# --separate-threads), not those written when the proxy exits.
dump_files() { find "$1" -name 'callgrind.out.*.1-*' -newer "$1/zeroed" | sort; }

# The worker thread's dump: the one whose code ran Worker::Start's loop.
worker_dump() {
  local file
  while read -r file; do
    grep -q 'Worker::Start' "$file" && printf '%s\n' "$file" && return
  done < <(dump_files "$1")
}

# The total Ir of the dumps FILE... (each has one "summary:" line).
dump_total() {
  awk '/^summary:/ { t += $2 } END { printf "%d", t }' "$@"
}

# top_functions DIR REQUESTS: the worker thread's BENCH_TOP functions with the most self Ir, per
# request and as a share of the thread's total, as markdown rows. Frames still on the stack when
# the counters are dumped (thread start, the worker's loop) are listed with their inclusive cost;
# no function's own cost comes near the total, so rows above 90% are left out.
top_functions() {
  callgrind_annotate --inclusive=no --threshold=100 "$(worker_dump "$1")" 2>/dev/null |
    awk -v n="$2" -v top="$top" '
      /^-+$/ { dashes++; next }
      dashes >= 5 && match($0, /^ *[0-9,]+ +\( *[0-9.]+%\) +/) {
        head = substr($0, 1, RLENGTH); fn = substr($0, RLENGTH + 1)
        ir = head; sub(/\(.*/, "", ir); gsub(/[ ,]/, "", ir)
        share = head; sub(/^[^(]*\( */, "", share); sub(/%\).*/, "", share)
        if (share + 0 >= 90) next
        sub(/ \[[^]]*\]$/, "", fn); sub(/^[^:]*:/, "", fn); gsub(/\|/, "\\|", fn)
        printf "| %s | %.0f | %s%% |\n", fn, ir / n, share
        if (++rows >= top) exit
      }'
}

# measure BINARY TEST PIPELINE CASE: instructions per request for one case, "worker | process".
measure() {
  local bin=$1 test=$2 pipeline=$3 dir worker total files
  dir=$run_dir/cg-$RANDOM
  mkdir -p "$dir"
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/callgrind.out.%p" \
    "$bin" --port "$proxy_port" --bind 127.0.0.1 --threads 1 --log-level warning \
    --cluster "127.0.0.1:$base_port" >"$dir/proxy.out" 2>&1 &
  proxy_pid=$!
  local deadline=$((SECONDS + 120))
  until [[ $(redis-cli -p "$proxy_port" PING 2>/dev/null) == PONG ]]; do
    ((SECONDS < deadline)) || sp_die "the proxy did not start under valgrind; see $dir/proxy.out"
    sleep 0.5
  done
  # Warm-up: connections to every node, pools and buffers at their steady size.
  redis-benchmark -p "$proxy_port" -c "$clients" -n 5000 -r 1000000 -P "$pipeline" -t "$test" \
    -q >/dev/null
  callgrind_control -z "$proxy_pid" >/dev/null 2>&1
  touch "$dir/zeroed"
  timeout 600 redis-benchmark -p "$proxy_port" -c "$clients" -n "$requests" -r 1000000 \
    -P "$pipeline" -t "$test" -q >/dev/null
  callgrind_control -d "$proxy_pid" >/dev/null 2>&1
  mapfile -t files < <(dump_files "$dir")
  total=$(dump_total "${files[@]}")
  worker=$(dump_total "$(worker_dump "$dir")")
  kill -TERM "$proxy_pid" 2>/dev/null
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
  ((top > 0)) && top_functions "$dir" "$requests" >"$run_dir/top-$4"
  awk -v w="$worker" -v t="$total" -v n="$requests" 'BEGIN { printf "%.0f | %.0f", w / n, t / n }'
}

printf '| binary | case | worker thread | whole process |\n|---|---|--:|--:|\n'
cases=()
for bin in "${binaries[@]}"; do
  for test in "${tests[@]}"; do
    for pipeline in "${pipelines[@]}"; do
      cases+=("${bin#"$SP_ROOT"/} $test P$pipeline")
      printf '| %s | %s P%s | %s |\n' "${bin#"$SP_ROOT"/}" "$test" "$pipeline" \
        "$(measure "$bin" "$test" "$pipeline" "${#cases[@]}")"
    done
  done
done
if ((top > 0)); then
  for i in "${!cases[@]}"; do
    printf '\n%s: top %s functions by self instructions\n\n' "${cases[$i]}" "$top"
    printf '| function | instructions per request | share |\n|---|--:|--:|\n'
    cat "$run_dir/top-$((i + 1))"
  done
fi
