#!/usr/bin/env bash
# The same redis-benchmark load sent straight to a Redis Cluster (redis-benchmark --cluster) and
# through slotplane-proxy, in one run, with the CPU each side spends per request.
# Starts its own cluster and proxy on its own ports and always stops them. See README.md.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/local/cluster_lib.sh
source "$here/../../deploy/local/cluster_lib.sh"

usage() {
  cat <<'EOF'
usage: tests/bench/proxy_vs_direct.sh [--out FILE] [--threads N] [--requests N] [--seconds S]
                                      [--pipelines "1 16"] [--tests "set get"]

  --out FILE       also write the result table to FILE (CSV if FILE ends in .csv, else markdown)
  --threads N      proxy worker threads (default 2; env BENCH_PROXY_THREADS)
  --requests N     requests per run (default: calibrated so a direct run lasts --seconds;
                   env BENCH_REQUESTS)
  --seconds S      target length of one direct run when calibrating (default 5; BENCH_SECONDS)
  --pipelines L    pipeline depths to run (default "1 16"; BENCH_PIPELINES)
  --tests L        redis-benchmark tests to run (default "set get"; BENCH_TESTS)

Other environment: BENCH_BASE_PORT (7101; nodes use BASE..BASE+5), BENCH_PROXY_PORT (7177),
BENCH_CLIENTS (50), BENCH_KEYSPACE (1000000), BENCH_RUN_TIMEOUT (seconds per run, 120),
BENCH_PROXY_LOG_LEVEL (warning), BENCH_PROXY_BIN (default build/bin/slotplane-proxy, or
$SLOTPLANE_BUILD_DIR/bin/slotplane-proxy), BENCH_RUN_DIR (state and logs, .run/bench).
EOF
}

base_port=${BENCH_BASE_PORT:-7101}
proxy_port=${BENCH_PROXY_PORT:-7177}
threads=${BENCH_PROXY_THREADS:-2}
requests=${BENCH_REQUESTS:-}
seconds=${BENCH_SECONDS:-5}
clients=${BENCH_CLIENTS:-50}
keyspace=${BENCH_KEYSPACE:-1000000}
pipelines=${BENCH_PIPELINES:-1 16}
tests=${BENCH_TESTS:-set get}
run_timeout=${BENCH_RUN_TIMEOUT:-120}
log_level=${BENCH_PROXY_LOG_LEVEL:-warning}
proxy_bin=${BENCH_PROXY_BIN:-${SLOTPLANE_BUILD_DIR:-$SP_ROOT/build}/bin/slotplane-proxy}
out=${BENCH_OUT:-}

while (($#)); do
  case $1 in
    --out) out=${2:?--out needs a file}; shift 2 ;;
    --threads) threads=${2:?--threads needs a number}; shift 2 ;;
    --requests) requests=${2:?--requests needs a number}; shift 2 ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --pipelines) pipelines=${2:?--pipelines needs a list}; shift 2 ;;
    --tests) tests=${2:?--tests needs a list}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; sp_die "unknown argument: $1" ;;
  esac
done

for var in proxy_port threads seconds clients keyspace run_timeout; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || sp_die "$var must be a positive integer, got '${!var}'"
done
[[ -z $requests || $requests =~ ^[1-9][0-9]*$ ]] || sp_die "requests must be a positive integer"
read -r -a pipelines <<<"$pipelines"
read -r -a tests <<<"$tests"
for p in "${pipelines[@]}"; do
  [[ $p =~ ^[1-9][0-9]*$ ]] || sp_die "pipeline depth must be a positive integer, got '$p'"
done
for t in "${tests[@]}"; do
  [[ $t =~ ^[a-zA-Z0-9_]+$ ]] || sp_die "bad test name '$t'"
done

sp_require_cmds redis-server redis-cli redis-benchmark python3 getconf timeout setsid nohup awk
[[ -x $proxy_bin ]] || sp_die "proxy binary not found: $proxy_bin (build it: scripts/build.sh)"
[[ -z $out || -d $(dirname -- "$out") ]] || sp_die "directory of --out does not exist: $out"

cpu_sample=$here/cpu_sample.py
clk_tck=$(getconf CLK_TCK)
run_dir=${BENCH_RUN_DIR:-$SP_ROOT/.run/bench}
node_count=6
bench_pid=

stop_all() {
  [[ -d $run_dir ]] || return 0
  sp_proxy_stop "$run_dir" || true
  sp_cluster_stop "$run_dir" || true
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $bench_pid ]]; then
    kill -TERM "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [[ -d $run_dir ]]; then
    sp_log "stopping the benchmark's proxy and cluster"
    stop_all
    if ((rc == 0)); then
      rm -rf -- "$run_dir"
    else
      sp_warn "failed (exit $rc); logs kept in ${run_dir#"$SP_ROOT"/}/"
    fi
  fi
  exit "$rc"
}

sp_claim_run_dir "$run_dir" benchmark
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
sp_log "starting a cluster on 127.0.0.1:$base_port-$((base_port + node_count - 1))"
sp_cluster_up "$run_dir" "$base_port" "$node_count" || sp_die "the cluster did not come up"
mapfile -t ports < <(sp_cluster_ports "$run_dir")
sp_log "starting slotplane-proxy on 127.0.0.1:$proxy_port with $threads threads"
sp_proxy_start "$run_dir" "$proxy_bin" "$proxy_port" "$threads" "$log_level" \
  "$SP_HOST:${ports[0]}" "$SP_HOST:${ports[1]}"
sp_proxy_wait "$run_dir" 30 || sp_die "slotplane-proxy did not come up"

mapfile -t redis_pids < <(sp_cluster_pids "$run_dir")
((${#redis_pids[@]} == node_count)) || sp_die "expected $node_count redis-server pids, found ${#redis_pids[@]}"
proxy_pid=$(sp_proxy_pid "$run_dir")

ticks() {
  "$cpu_sample" ticks "$@" || sp_die "a benchmarked process died (pids $*); see ${run_dir#"$SP_ROOT"/}/"
}

# us_per_req CPU_SECONDS REQUESTS
us_per_req() { awk -v s="$1" -v n="$2" 'BEGIN { printf "%.2f", s * 1e6 / n }'; }

# run_one MODE TEST PIPELINE REQUESTS: one redis-benchmark run; sets R_OPS, R_SECS, R_REDIS_US,
# R_PROXY_US, R_CLIENT_US.
run_one() {
  local mode=$1 test=$2 pipeline=$3 n=$4 name target=() r0 r1 p0 p1 t0 t1 client_s
  name=$mode-$test-P$pipeline-n$n
  if [[ $mode == direct ]]; then
    target=(-h "$SP_HOST" -p "${ports[0]}" --cluster)
  else
    target=(-h "$SP_HOST" -p "$proxy_port")
  fi
  r0=$(ticks "${redis_pids[@]}")
  p0=$(ticks "$proxy_pid")
  t0=$(date +%s.%N)
  # In the background so that a signal to this script is handled at once (finish stops it).
  "$cpu_sample" run "$run_dir/$name.client-cpu" -- \
    timeout -k 5 "$run_timeout" \
    redis-benchmark "${target[@]}" -c "$clients" -n "$n" -r "$keyspace" -P "$pipeline" \
    -t "$test" --csv >"$run_dir/$name.csv" 2>"$run_dir/$name.err" &
  bench_pid=$!
  if ! wait "$bench_pid"; then
    bench_pid=
    sp_warn "redis-benchmark failed or timed out (${run_timeout}s): $mode $test -P $pipeline"
    tail -n 20 "$run_dir/$name.err" >&2 || true
    return 1
  fi
  bench_pid=
  t1=$(date +%s.%N)
  r1=$(ticks "${redis_pids[@]}")
  p1=$(ticks "$proxy_pid")
  R_OPS=$(awk -F, -v t="${test^^}" '{ gsub(/"/, "") } $1 == t { print $2; exit }' "$run_dir/$name.csv")
  if [[ ! $R_OPS =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    sp_warn "no result for ${test^^} in redis-benchmark's output ($mode -P $pipeline):"
    cat "$run_dir/$name.csv" >&2
    tail -n 20 "$run_dir/$name.err" >&2 || true
    return 1
  fi
  R_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  read -r client_s <"$run_dir/$name.client-cpu"
  R_REDIS_US=$(us_per_req "$(awk -v t=$((r1 - r0)) -v h="$clk_tck" 'BEGIN { print t / h }')" "$n")
  R_PROXY_US=$(us_per_req "$(awk -v t=$((p1 - p0)) -v h="$clk_tck" 'BEGIN { print t / h }')" "$n")
  R_CLIENT_US=$(us_per_req "$client_s" "$n")
}

# calibrate TEST PIPELINE: sets CAL_N to the requests for about $seconds seconds of a direct run
# of TEST (from a short probe run; not in a subshell, so signals are handled at once).
calibrate() {
  local test=$1 pipeline=$2 probe=$((50000 * $2))
  ((probe <= 400000)) || probe=400000
  run_one direct "$test" "$pipeline" "$probe" || sp_die "calibration run failed"
  CAL_N=$(awk -v ops="$R_OPS" -v s="$seconds" 'BEGIN {
    n = int(ops * s / 10000 + 0.5) * 10000; if (n < 10000) n = 10000; print n }')
}

# ---------------------------------------------------------------------------------------------
cores=$(nproc)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
redis_version=$(redis-server --version | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^v=/) print substr($i, 3) }')
commit=$(git -C "$SP_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

header=(
  "slotplane benchmark: proxy vs direct (redis-benchmark), $(date -u '+%Y-%m-%d %H:%M UTC')"
  "host: $cores cores (${cpu_model:-unknown CPU}), redis-server $redis_version, slotplane $commit"
  "cluster: 3 masters + 3 replicas on 127.0.0.1:${ports[0]}-${ports[$((node_count - 1))]}; proxy: $threads threads on :$proxy_port"
  "load: redis-benchmark -c $clients -r $keyspace -d 3, tests ${tests[*]}, pipelines ${pipelines[*]}; requests per run ${requests:-calibrated to ~${seconds}s direct}"
  "direct: redis-benchmark --cluster (each client bound to one master, hash-tagged keys); proxied: plain redis-benchmark to the proxy (keys over all slots)"
  "CAVEAT: everything shares these $cores cores: 6 redis-servers, the proxy and redis-benchmark (single-threaded)."
  "        The client's CPU competes with the proxy's, so ratios understate a proxy on its own hosts;"
  "        CPU columns are CPU time per request (utime+stime from /proc, summed over all 6 servers for 'redis'), not latency."
)
printf '%s\n' "${header[@]}"
echo

cols=(case requests "direct ops/s" "proxy ops/s" "proxy/direct"
  "redis us/req direct" "redis us/req proxied" "proxy us/req proxied" "proxy us/req direct (idle)"
  "client us/req direct" "client us/req proxied")
csv_cols=(test pipeline requests direct_ops proxy_ops ratio
  redis_us_direct redis_us_proxied proxy_us_proxied proxy_us_direct_idle
  client_us_direct client_us_proxied)
rows=()
csv_rows=()

sp_cli "${ports[0]}" PING >/dev/null
for port in "${ports[@]}"; do
  sp_cli "$port" FLUSHALL >/dev/null 2>&1 || true # replicas refuse; their masters' flush reaches them
done

for pipeline in "${pipelines[@]}"; do
  for test in "${tests[@]}"; do
    n=$requests
    if [[ -z $n ]]; then
      calibrate "$test" "$pipeline"
      n=$CAL_N
      sp_log "${test^^} -P $pipeline: $n requests per run (calibrated to ~${seconds}s direct)"
    fi
    run_one direct "$test" "$pipeline" "$n" || exit 1
    d_ops=$R_OPS d_redis=$R_REDIS_US d_proxy=$R_PROXY_US d_client=$R_CLIENT_US
    sp_log "${test^^} -P $pipeline direct:  $d_ops ops/s in ${R_SECS}s"
    run_one proxied "$test" "$pipeline" "$n" || exit 1
    x_ops=$R_OPS x_redis=$R_REDIS_US x_proxy=$R_PROXY_US x_client=$R_CLIENT_US
    ratio=$(awk -v a="$x_ops" -v b="$d_ops" 'BEGIN { printf "%.2f", a / b }')
    sp_log "${test^^} -P $pipeline proxied: $x_ops ops/s in ${R_SECS}s (ratio $ratio)"
    fields=("${test^^} P$pipeline" "$n" "$(printf '%.0f' "$d_ops")" "$(printf '%.0f' "$x_ops")" "$ratio"
      "$d_redis" "$x_redis" "$x_proxy" "$d_proxy" "$d_client" "$x_client")
    rows+=("$(IFS='|'; printf '%s' "${fields[*]}")")
    csv_rows+=("${test^^},$pipeline,$n,$d_ops,$x_ops,$ratio,$d_redis,$x_redis,$x_proxy,$d_proxy,$d_client,$x_client")
  done
done

# markdown_table: an aligned markdown table of cols and rows.
markdown_table() {
  {
    (IFS='|'; printf '%s\n' "${cols[*]}")
    printf '%s\n' "${rows[@]}"
  } | awk -F'|' '
    { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; l = length($i); if (l > w[i]) w[i] = l } n = NR; nf = NF }
    END {
      for (r = 1; r <= n; r++) {
        line = "|"
        for (i = 1; i <= nf; i++) {
          fmt = (i == 1) ? " %-" w[i] "s |" : " %" w[i] "s |"
          line = line sprintf(fmt, cell[r, i])
        }
        print line
        if (r == 1) {
          line = "|"
          for (i = 1; i <= nf; i++) { d = ""; for (k = 0; k < w[i]; k++) d = d "-"; line = line (i == 1 ? " " d " |" : " " d ":|") }
          print line
        }
      }
    }'
}

echo
printf '%s\n' "${header[@]}"
echo
markdown_table

if [[ -n $out ]]; then
  if [[ $out == *.csv ]]; then
    {
      (IFS=','; printf '%s\n' "${csv_cols[*]}")
      printf '%s\n' "${csv_rows[@]}"
    } >"$out"
  else
    {
      printf '%s  \n' "${header[@]}"
      echo
      markdown_table
    } >"$out"
  fi
  sp_log "wrote $out"
fi
