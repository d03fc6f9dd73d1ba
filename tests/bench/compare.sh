#!/usr/bin/env bash
# One command for the comparison table: the same redis-benchmark loads sent straight to a Redis
# Cluster and through slotplane-proxy (each io-engine the binary supports), predixy and
# redis-cluster-proxy (when built by build_competitors.sh), at 1 and 2 proxy threads; plus
# 5,000-client scaling and the memory each proxy spends per client. Measures, never judges:
# it fails only when the harness itself breaks. See README.md.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/local/cluster_lib.sh
source "$here/../../deploy/local/cluster_lib.sh"

usage() {
  cat <<'EOF'
usage: tests/bench/compare.sh [--out FILE] [--smoke] [--seconds S] [--requests N]
                              [--threads "1 2"] [--tests "get set"] [--pipelines "1 16"]
                              [--scale-clients N] [--idle-clients N] [--proxies LIST]

  --out FILE          also write the report (markdown) to FILE
  --smoke             a ~10-second check that every part of the harness works: small fixed
                      runs, 1 thread, 200 clients for scaling and memory (what CI runs)
  --seconds S         length of a direct run, by calibration (default 5; BENCH_SECONDS)
  --requests N        fixed requests per run instead of calibrating (BENCH_REQUESTS)
  --threads L         proxy worker thread counts (default "1 2"; BENCH_THREADS)
  --tests L           redis-benchmark tests (default "get set"; BENCH_TESTS)
  --pipelines L       pipeline depths (default "1 16"; BENCH_PIPELINES)
  --scale-clients N   clients of the scaling run, GET P1 (default 5000; BENCH_SCALE_CLIENTS)
  --idle-clients N    clients of the memory run (default 5000; BENCH_IDLE_CLIENTS)
  --proxies L         which proxies (default "slotplane predixy redis-cluster-proxy")

Binaries: BENCH_PROXY_BIN (build/bin/slotplane-proxy), PREDIXY_BIN and RCP_BIN (default
$COMPETITORS_DIR/bin/{predixy,redis-cluster-proxy}, COMPETITORS_DIR=.run/competitors, as
tests/bench/build_competitors.sh leaves them); a competitor that is not there is skipped.
Other environment: BENCH_BASE_PORT (7401; nodes BASE..BASE+5), BENCH_PROXY_PORT (7477),
BENCH_CLIENTS (50), BENCH_KEYSPACE (1000000), BENCH_RUN_TIMEOUT (seconds per run, 120),
BENCH_RUN_DIR (state, logs and the proxies' generated config files, .run/bench-compare; removed
after a successful run unless BENCH_KEEP_RUN_DIR=1).
EOF
}

base_port=${BENCH_BASE_PORT:-7401}
proxy_port=${BENCH_PROXY_PORT:-7477}
seconds=${BENCH_SECONDS:-5}
requests=${BENCH_REQUESTS:-}
thread_counts=${BENCH_THREADS:-1 2}
tests=${BENCH_TESTS:-get set}
pipelines=${BENCH_PIPELINES:-1 16}
scale_clients=${BENCH_SCALE_CLIENTS:-5000}
idle_clients=${BENCH_IDLE_CLIENTS:-5000}
clients=${BENCH_CLIENTS:-50}
keyspace=${BENCH_KEYSPACE:-1000000}
run_timeout=${BENCH_RUN_TIMEOUT:-120}
proxies="slotplane predixy redis-cluster-proxy"
smoke=
out=
proxy_bin=${BENCH_PROXY_BIN:-${SLOTPLANE_BUILD_DIR:-$SP_ROOT/build}/bin/slotplane-proxy}
competitors_dir=${COMPETITORS_DIR:-$SP_ROOT/.run/competitors}
predixy_bin=${PREDIXY_BIN:-$competitors_dir/bin/predixy}
rcp_bin=${RCP_BIN:-$competitors_dir/bin/redis-cluster-proxy}

while (($#)); do
  case $1 in
    --out) out=${2:?--out needs a file}; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --requests) requests=${2:?}; shift 2 ;;
    --threads) thread_counts=${2:?}; shift 2 ;;
    --tests) tests=${2:?}; shift 2 ;;
    --pipelines) pipelines=${2:?}; shift 2 ;;
    --scale-clients) scale_clients=${2:?}; shift 2 ;;
    --idle-clients) idle_clients=${2:?}; shift 2 ;;
    --proxies) proxies=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; sp_die "unknown argument: $1" ;;
  esac
done

if [[ -n $smoke ]]; then
  requests=${BENCH_REQUESTS:-2000} thread_counts=1 tests=get scale_clients=200 idle_clients=200
fi
for var in proxy_port seconds scale_clients idle_clients clients keyspace run_timeout; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || sp_die "$var must be a positive integer, got '${!var}'"
done
[[ -z $requests || $requests =~ ^[1-9][0-9]*$ ]] || sp_die "requests must be a positive integer"
read -r -a thread_counts <<<"$thread_counts"
read -r -a tests <<<"$tests"
read -r -a pipelines <<<"$pipelines"
read -r -a proxies <<<"$proxies"
for v in "${thread_counts[@]}" "${pipelines[@]}"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || sp_die "threads and pipelines must be positive integers, got '$v'"
done
for t in "${tests[@]}"; do
  [[ $t =~ ^[a-zA-Z0-9_]+$ ]] || sp_die "bad test name '$t'"
done
for p in "${proxies[@]}"; do
  [[ $p =~ ^(slotplane|predixy|redis-cluster-proxy)$ ]] || sp_die "unknown proxy '$p'"
done
last_threads=${thread_counts[-1]}

sp_require_cmds redis-server redis-cli redis-benchmark python3 getconf timeout setsid nohup awk
[[ -x $proxy_bin ]] || sp_die "proxy binary not found: $proxy_bin (build it: scripts/build.sh)"
[[ -z $out || -d $(dirname -- "$out") ]] || sp_die "directory of --out does not exist: $out"

cpu_sample=$here/cpu_sample.py
rss_tool=$here/rss_per_client.py
clk_tck=$(getconf CLK_TCK)
run_dir=${BENCH_RUN_DIR:-$SP_ROOT/.run/bench-compare}
node_count=6
bench_pid='' sampler_pid='' target_pid='' harness_errors=0

# The scaling and memory runs need a descriptor per client in redis-benchmark, the proxy and
# the nodes (which size maxclients from the limit at start): raise the soft limit first.
want_fds=$(((scale_clients > idle_clients ? scale_clients : idle_clients) + 512))
hard_fds=$(ulimit -Hn)
if [[ $hard_fds != unlimited ]] && ((hard_fds < want_fds)); then
  sp_warn "descriptor limit $hard_fds is below $want_fds; scaling and memory runs use fewer clients"
  ((scale_clients = hard_fds - 512 > 10 ? hard_fds - 512 : 10))
  ((idle_clients = scale_clients))
  want_fds=$hard_fds
fi
soft_fds=$(ulimit -Sn)
[[ $soft_fds == unlimited ]] || ((soft_fds >= want_fds)) || ulimit -Sn "$want_fds"

stop_target() {
  [[ -n $target_pid ]] || return 0
  sp_kill_pid "$target_pid" "proxy under test" 10 || sp_warn "could not stop pid $target_pid"
  target_pid=
}

stop_bg() {
  local pid
  for pid in "$bench_pid" "$sampler_pid"; do
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  bench_pid='' sampler_pid=''
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  stop_bg
  if [[ -d $run_dir ]]; then
    sp_log "stopping the proxy under test and the cluster"
    stop_target
    sp_cluster_stop "$run_dir" || true
    if ((rc == 0)) && [[ -z ${BENCH_KEEP_RUN_DIR:-} ]]; then
      rm -rf -- "$run_dir"
    else
      sp_warn "failed (exit $rc); logs kept in ${run_dir#"$SP_ROOT"/}/"
    fi
  fi
  exit "$rc"
}

sp_claim_run_dir "$run_dir" comparison
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sp_log "starting a cluster on 127.0.0.1:$base_port-$((base_port + node_count - 1))"
sp_cluster_up "$run_dir" "$base_port" "$node_count" || sp_die "the cluster did not come up"
mapfile -t ports < <(sp_cluster_ports "$run_dir")
mapfile -t redis_pids < <(sp_cluster_pids "$run_dir")
((${#redis_pids[@]} == node_count)) || sp_die "expected $node_count redis-server pids"
sp_port_busy "$proxy_port" && sp_die "proxy port $proxy_port is already in use (BENCH_PROXY_PORT)"
for port in "${ports[@]}"; do
  sp_cli "$port" FLUSHALL >/dev/null 2>&1 || true # replicas refuse; their masters' flush reaches them
done

# ---------------------------------------------------------------------------------------------
# Starting and stopping the proxy under test.

# start_target NAME CMD... : starts CMD in its own session, logs in $run_dir/NAME.out; waits
# until it answers PING and a SET goes through (it knows the slots). Sets target_pid.
start_target() {
  local name=$1 deadline pidfile
  shift
  pidfile=$run_dir/$name.pid
  printf '%s\n' "$*" >"$run_dir/$name.cmd"
  # The inner shell writes its own pid, then execs the proxy (as cluster_lib's sp_proxy_start).
  # shellcheck disable=SC2016  # $0 and $@ belong to the inner shell
  nohup setsid bash -c 'echo "$$" >"$0" && exec "$@"' "$pidfile" "$@" \
    >"$run_dir/$name.out" 2>&1 </dev/null &
  deadline=$((SECONDS + 30))
  until [[ -s $pidfile ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
  read -r target_pid <"$pidfile"
  until [[ $(sp_cli "$proxy_port" SET compare:ready 1 2>/dev/null) == OK ]]; do
    if ! kill -0 "$target_pid" 2>/dev/null; then
      target_pid=
      return 1
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# io_uring_fds PID : how many io_uring instances the process holds.
io_uring_fds() { find "/proc/$1/fd" -lname 'anon_inode:\[io_uring\]' 2>/dev/null | wc -l; }

# why_not NAME : the last lines of a target's output, for the report.
why_not() { tail -n 3 "$run_dir/$1.out" 2>/dev/null | tr '\n' ' ' | cut -c1-200; }

# ---------------------------------------------------------------------------------------------
# One redis-benchmark run.

ticks() { "$cpu_sample" ticks "$@"; }
us_per_req() { awk -v t="$1" -v h="$clk_tck" -v n="$2" 'BEGIN { printf "%.2f", t / h * 1e6 / n }'; }

# run_load NAME PORT DIRECT(0|1) TEST PIPELINE REQUESTS CLIENTS: sets R_OPS R_P50 R_P99
# R_REDIS_US R_PROXY_US (proxy: "-" when direct). Fails (after a warning) when the run fails.
run_load() {
  local name=$1 port=$2 direct=$3 test=$4 pipeline=$5 n=$6 c=$7 target=() r0 r1 p0=0 p1=0 f
  f=$run_dir/$name
  target=(-h "$SP_HOST" -p "$port")
  ((direct)) && target+=(--cluster)
  r0=$(ticks "${redis_pids[@]}") || return 1
  [[ -z $target_pid ]] || p0=$(ticks "$target_pid") || return 1
  # In the background, so a signal to this script is handled at once (finish stops it).
  timeout -k 5 "$run_timeout" redis-benchmark "${target[@]}" -c "$c" -n "$n" -r "$keyspace" \
    -P "$pipeline" -t "$test" --csv >"$f.csv" 2>"$f.err" &
  bench_pid=$!
  if ! wait "$bench_pid"; then
    bench_pid=
    sp_warn "redis-benchmark failed or timed out (${run_timeout}s): $name"
    tail -n 5 "$f.err" >&2 || true
    return 1
  fi
  bench_pid=
  r1=$(ticks "${redis_pids[@]}") || return 1
  [[ -z $target_pid ]] || p1=$(ticks "$target_pid") || return 1
  # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
  read -r R_OPS R_P50 R_P99 < <(awk -F, -v t="${test^^}" '{ gsub(/"/, "") }
    $1 == t { print $2, $5, $7; exit }' "$f.csv") || true
  if [[ ! ${R_OPS:-} =~ ^[0-9]+(\.[0-9]+)?$ || ! ${R_P99:-} =~ ^[0-9.]+$ ]]; then
    sp_warn "no result for ${test^^} in redis-benchmark's output ($name):"
    cat "$f.csv" >&2
    tail -n 5 "$f.err" >&2 || true
    return 1
  fi
  R_OPS=$(printf '%.0f' "$R_OPS")
  R_REDIS_US=$(us_per_req $((r1 - r0)) "$n")
  R_PROXY_US=-
  [[ -z $target_pid ]] || R_PROXY_US=$(us_per_req $((p1 - p0)) "$n")
}

# ---------------------------------------------------------------------------------------------
# Results: rows of '|'-separated cells, printed as markdown tables at the end.

declare -A n_of=()        # case -> requests per run
declare -A direct_ops=()  # case -> direct ops/s
scale_rows=() memory_rows=() notes=()
cases=()
for pipeline in "${pipelines[@]}"; do
  for test in "${tests[@]}"; do cases+=("${test^^} P$pipeline"); done
done
declare -A case_rows=() # case -> newline-separated rows

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
kb_per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (a - b) / n }'; }

# record_case CASE PROXY THREADS : appends the last run_load's figures to CASE's rows.
record_case() {
  local c=$1 r
  r="$c|$2|$3|$R_OPS|$(ratio "$R_OPS" "${direct_ops[$c]:-0}")|$R_PROXY_US|$R_REDIS_US|$R_P50|$R_P99"
  case_rows[$c]+="$r"$'\n'
}
record_failed() { case_rows[$1]+="$1|$2|$3|failed|-|-|-|-|-"$'\n'; }

# requests_for CASE TEST PIPELINE: the requests of every run of this case (fixed, or from a
# short direct probe so a direct run lasts about $seconds).
requests_for() {
  local c=$1 test=$2 pipeline=$3 probe
  if [[ -n $requests ]]; then
    n_of[$c]=$requests
    return 0
  fi
  probe=$((50000 * pipeline))
  ((probe <= 400000)) || probe=400000
  run_load "probe-$test-P$pipeline" "${ports[0]}" 1 "$test" "$pipeline" "$probe" "$clients" ||
    return 1
  n_of[$c]=$(awk -v ops="$R_OPS" -v s="$seconds" 'BEGIN {
    n = int(ops * s / 10000 + 0.5) * 10000; if (n < 10000) n = 10000; print n }')
}

scale_n() {
  local n=${n_of[GET P1]:-${requests:-100000}}
  ((n >= scale_clients * 10)) || n=$((scale_clients * 10))
  echo "$n"
}

# run_cases PROXY THREADS PORT DIRECT : every case against PORT; failures become "failed" rows.
run_cases() {
  local proxy=$1 threads=$2 port=$3 direct=$4 pipeline test c tag
  tag=${proxy// /-}-t$threads
  for pipeline in "${pipelines[@]}"; do
    for test in "${tests[@]}"; do
      c="${test^^} P$pipeline"
      if run_load "$tag-$test-P$pipeline" "$port" "$direct" "$test" "$pipeline" "${n_of[$c]}" "$clients"; then
        ((direct)) && direct_ops[$c]=$R_OPS
        record_case "$c" "$proxy" "$threads"
        sp_log "$c $proxy ($threads): $R_OPS ops/s, proxy ${R_PROXY_US} us/op, p99 ${R_P99} ms"
      else
        record_failed "$c" "$proxy" "$threads"
        [[ $proxy == direct || $proxy == slotplane* ]] && harness_errors=$((harness_errors + 1))
      fi
    done
  done
}

# run_scale PROXY THREADS PORT DIRECT : GET P1 with $scale_clients clients; with a proxy, its
# peak RSS.
run_scale() {
  local proxy=$1 threads=$2 port=$3 direct=$4 n base=0 peak=0 kb=- tag=${1// /-}
  n=$(scale_n)
  if [[ -n $target_pid ]]; then
    base=$(awk '/^VmRSS:/ { print $2 }' "/proc/$target_pid/status")
    "$rss_tool" peak "$target_pid" "$run_dir/$tag.peak" "$((run_timeout + 10))" &
    sampler_pid=$!
  fi
  if run_load "$tag-scale" "$port" "$direct" get 1 "$n" "$scale_clients"; then
    if [[ -n $sampler_pid ]]; then
      kill -TERM "$sampler_pid" 2>/dev/null || true
      wait "$sampler_pid" 2>/dev/null || true
      sampler_pid=
      read -r peak <"$run_dir/$tag.peak" || peak=0
      kb=$(kb_per "$peak" "$base" "$scale_clients")
    fi
    ((direct)) && direct_ops[scale]=$R_OPS
    scale_rows+=("$proxy|$threads|$R_OPS|$(ratio "$R_OPS" "${direct_ops[scale]:-0}")|$R_PROXY_US|$R_REDIS_US|$R_P50|$R_P99|$kb")
    sp_log "$scale_clients clients, $proxy: $R_OPS ops/s, p99 $R_P99 ms, peak $kb KB/client"
  else
    stop_bg
    scale_rows+=("$proxy|$threads|failed|-|-|-|-|-|-")
    [[ $proxy == direct || $proxy == slotplane* ]] && harness_errors=$((harness_errors + 1))
  fi
  return 0
}

# run_memory PROXY : $idle_clients clients, one GET each, then idle; then closed.
run_memory() {
  local proxy=$1 line base idle closed errors
  if ! line=$(timeout -k 5 "$run_timeout" "$rss_tool" idle "$SP_HOST" "$proxy_port" \
    "$target_pid" "$idle_clients" --deadline "$((run_timeout - 5))"); then
    memory_rows+=("$proxy|$last_threads|failed|-|-|-")
    [[ $proxy == slotplane* ]] && harness_errors=$((harness_errors + 1))
    return 0
  fi
  eval "$(tr ' ' '\n' <<<"$line" | grep -E '^[a-z_]+=[0-9]+$' | sed 's/_kb=/=/')"
  memory_rows+=("$proxy|$last_threads|$(awk -v b="$base" 'BEGIN { printf "%.1f", b / 1024 }')|$(kb_per "$idle" "$base" "$idle_clients")|$(kb_per "$closed" "$base" "$idle_clients")|$errors")
  sp_log "$idle_clients idle clients, $proxy: $(kb_per "$idle" "$base" "$idle_clients") KB each"
}

# bench_target PROXY THREADS CMD... : start, memory (last thread count), cases, stop; at the
# last thread count, start again for the scaling run.
bench_target() {
  local proxy=$1 threads=$2 name
  shift 2
  name=${proxy// /-}-t$threads
  sp_log "starting $proxy with $threads threads: $*"
  if ! start_target "$name" "$@"; then
    notes+=("$proxy, $threads thread(s), did not start: $(why_not "$name")")
    sp_warn "${notes[-1]}"
    stop_target
    [[ $proxy == "slotplane epoll" || $proxy == slotplane ]] && harness_errors=$((harness_errors + 1))
    return 0
  fi
  if [[ $proxy == slotplane* ]]; then
    # Which engine really runs: io_uring instances show as anon_inode:[io_uring] descriptors.
    notes+=("$proxy, $threads thread(s): $(io_uring_fds "$target_pid") io_uring instance(s) open after start")
  fi
  warm_up
  ((threads != last_threads)) || run_memory "$proxy"
  run_cases "$proxy" "$threads" "$proxy_port" 0
  stop_target
  ((threads == last_threads)) || return 0
  # The scaling run gets a fresh process: one that kept the memory run's buffers would reuse
  # them, and its peak RSS would hide what active clients cost.
  if start_target "$name-scale" "$@"; then
    warm_up
    run_scale "$proxy" "$threads" "$proxy_port" 0
  else
    scale_rows+=("$proxy|$threads|failed|-|-|-|-|-|-")
    [[ $proxy == slotplane* ]] && harness_errors=$((harness_errors + 1))
  fi
  stop_target
}

# warm_up : opens the proxy's backend connections and fills its slot table (5,000 requests).
warm_up() {
  timeout -k 5 "$run_timeout" redis-benchmark -h "$SP_HOST" -p "$proxy_port" -c "$clients" \
    -n 5000 -r "$keyspace" -t set,get -q >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------
# The proxies' command lines and config files.

# slotplane_cmd LOG THREADS [--io-engine E] : sets cmd.
slotplane_cmd() {
  local log=$1 threads=$2
  shift 2
  cmd=("$proxy_bin" --port "$proxy_port" --bind "$SP_HOST" --threads "$threads"
    --log-level warning --logfile "$log" --cluster "$SP_HOST:${ports[0]}"
    --cluster "$SP_HOST:${ports[1]}" "$@")
}

# predixy_conf THREADS : writes a predixy config for the bench cluster, prints its path.
# Reads go to masters only (MasterReadPriority 100, replicas 0), as slotplane's default.
predixy_conf() {
  local f=$run_dir/predixy-t$1.conf
  cat >"$f" <<EOF
# Written by slotplane's tests/bench/compare.sh for one run.
Name slotplane-bench
Bind $SP_HOST:$proxy_port
WorkerThreads $1
ClientTimeout 0
LogVerbSample 0
LogDebugSample 0
LogInfoSample 0
LogNoticeSample 0
LogWarnSample 1
LogErrorSample 1
Authority {
    Auth {
        Mode admin
    }
}
ClusterServerPool {
    MasterReadPriority 100
    StaticSlaveReadPriority 0
    DynamicSlaveReadPriority 0
    RefreshInterval 1
    Servers {
        + $SP_HOST:${ports[0]}
        + $SP_HOST:${ports[1]}
    }
}
EOF
  echo "$f"
}

# rcp_conf THREADS : a redis-cluster-proxy config (its proxy.conf keys), prints its path.
rcp_conf() {
  local f=$run_dir/redis-cluster-proxy-t$1.conf
  cat >"$f" <<EOF
# Written by slotplane's tests/bench/compare.sh for one run.
cluster $SP_HOST:${ports[0]}
port $proxy_port
bind $SP_HOST
threads $1
maxclients $((want_fds - 256))
daemonize no
log-level warning
EOF
  echo "$f"
}

# engine_ok ENGINE : does this slotplane-proxy accept `io-engine ENGINE`? Prints why not.
engine_ok() {
  local outp
  if outp=$(timeout 20 "$proxy_bin" --check-config --io-engine "$1" --cluster "$SP_HOST:${ports[0]}" 2>&1); then
    return 0
  fi
  printf '%s' "$outp" | head -n 2 | tr '\n' ' ' | cut -c1-200
  return 1
}

# ---------------------------------------------------------------------------------------------
kernel=$(uname -r)
cores=$(nproc)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
redis_version=$(redis-server --version | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^v=/) print substr($i, 3) }')
commit=$(git -C "$SP_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

# Direct first: the calibration and the reference of every ratio.
for pipeline in "${pipelines[@]}"; do
  for test in "${tests[@]}"; do
    c="${test^^} P$pipeline"
    requests_for "$c" "$test" "$pipeline" || sp_die "calibration run failed ($c)"
    sp_log "$c: ${n_of[$c]} requests per run"
  done
done
run_cases direct - "${ports[0]}" 1
run_scale direct - "${ports[0]}" 1

targets=() # proxy labels; their command lines are built per thread count below
for proxy in "${proxies[@]}"; do
  case $proxy in
    slotplane)
      if why=$(engine_ok epoll); then
        targets+=("slotplane epoll")
      else
        targets+=("slotplane")
        notes+=("slotplane: no io-engine option in this binary, so epoll only ($why)")
      fi
      if why=$(engine_ok io_uring); then
        targets+=("slotplane io_uring")
      else
        notes+=("slotplane io_uring skipped: --check-config --io-engine io_uring refused: $why")
      fi
      ;;
    predixy)
      if [[ -x $predixy_bin ]]; then targets+=(predixy); else
        notes+=("predixy skipped: no binary at ${predixy_bin#"$SP_ROOT"/} (tests/bench/build_competitors.sh builds it)")
      fi
      ;;
    redis-cluster-proxy)
      if [[ -x $rcp_bin ]]; then targets+=(redis-cluster-proxy); else
        notes+=("redis-cluster-proxy skipped: no binary at ${rcp_bin#"$SP_ROOT"/} (tests/bench/build_competitors.sh builds it)")
      fi
      ;;
  esac
done
for note in "${notes[@]}"; do sp_log "$note"; done

versions=("slotplane ${proxy_bin#"$SP_ROOT"/} ($("$proxy_bin" --version 2>/dev/null | head -n 1 || true), tree $commit)")
for target in "${targets[@]}"; do
  case $target in
    predixy) f=$predixy_bin.commit ;;
    redis-cluster-proxy) f=$rcp_bin.commit ;;
    *) continue ;;
  esac
  versions+=("$target $(cut -c1-12 "$f" 2>/dev/null || echo '(unknown commit)')")
done
commands=()
for target in "${targets[@]}"; do
  for threads in "${thread_counts[@]}"; do
    log=$run_dir/${target// /-}-t$threads.log
    case $target in
      "slotplane epoll") slotplane_cmd "$log" "$threads" --io-engine epoll ;;
      "slotplane io_uring") slotplane_cmd "$log" "$threads" --io-engine io_uring ;;
      slotplane) slotplane_cmd "$log" "$threads" ;;
      predixy) cmd=("$predixy_bin" "$(predixy_conf "$threads")") ;;
      redis-cluster-proxy) cmd=("$rcp_bin" -c "$(rcp_conf "$threads")" --disable-colors) ;;
    esac
    ((threads != last_threads)) || commands+=("$target: ${cmd[*]//"$SP_ROOT"\//}")
    bench_target "$target" "$threads" "${cmd[@]}"
    if [[ $target == "slotplane io_uring" && -r $log ]]; then
      engine_line=$(grep -iE 'io_uring|io-engine' "$log" | tail -n 1 | cut -c1-200 || true)
      [[ -z $engine_line ]] || notes+=("slotplane io_uring log: $engine_line")
    fi
  done
done

# ---------------------------------------------------------------------------------------------
# markdown_table HEADER ROW... : an aligned markdown table ('|'-separated cells).
# LEFT (env, default 3) first columns are left-aligned, the others right-aligned.
markdown_table() {
  printf '%s\n' "$@" | awk -F'|' -v left="${LEFT:-3}" '
    NF { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; l = length($i); if (l > w[i]) w[i] = l } n = NR; if (NF > nf) nf = NF }
    END {
      for (r = 1; r <= n; r++) {
        line = "|"
        for (i = 1; i <= nf; i++) line = line sprintf((i <= left) ? " %-" w[i] "s |" : " %" w[i] "s |", cell[r, i])
        print line
        if (r == 1) {
          line = "|"
          for (i = 1; i <= nf; i++) { d = ""; for (k = 0; k < w[i]; k++) d = d "-"; line = line " " d (i <= left ? " |" : ":|") }
          print line
        }
      }
    }'
}

report() {
  local c rows=()
  echo "# slotplane vs direct, predixy, redis-cluster-proxy ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "- host: $cores cores (${cpu_model:-unknown CPU}), Linux $kernel, redis-server $redis_version; ${versions[*]}"
  echo "- cluster: 3 masters + 3 replicas on 127.0.0.1:${ports[0]}-${ports[-1]}; one proxy at a time on :$proxy_port"
  echo "- load: redis-benchmark -c $clients -r $keyspace, requests per run ${requests:-calibrated to ~${seconds}s direct} (same for every target of a case)${smoke:+; SMOKE RUN: too short to mean anything}"
  echo "- direct: redis-benchmark --cluster (each client bound to one master, hash-tagged keys); proxied: keys over all slots"
  echo "- /direct: ops/s over direct ops/s; us/op: CPU time (utime+stime from /proc) per request, in µs (redis: all 6 servers); p50/p99: redis-benchmark's, ms"
  echo "- everything shares the $cores cores, so ratios understate a proxy on its own host; CPU µs/op is the cost"
  echo
  echo "## Throughput, CPU, latency"
  echo
  for c in "${cases[@]}"; do
    while IFS= read -r line; do [[ -n $line ]] && rows+=("$line"); done <<<"${case_rows[$c]:-}"
  done
  markdown_table "case|proxy|threads|ops/s|/direct|proxy us/op|redis us/op|p50 ms|p99 ms" "${rows[@]}"
  echo
  echo "## $scale_clients clients (GET P1, -n $(scale_n))"
  echo
  LEFT=2 markdown_table "proxy|threads|ops/s|/direct|proxy us/op|redis us/op|p50 ms|p99 ms|KB per active client" "${scale_rows[@]}"
  echo
  echo "KB per active client: (peak RSS during the run − RSS before) / $scale_clients."
  echo
  if ((${#memory_rows[@]})); then
    echo "## Memory per client ($idle_clients clients, one GET each, then idle)"
    echo
    LEFT=2 markdown_table "proxy|threads|RSS before MB|KB per idle client|KB per client kept after close|error replies" "${memory_rows[@]}"
    echo
    echo "(RSS with the clients connected − RSS before) / $idle_clients; after close: (RSS 2.5 s after they closed − RSS before) / $idle_clients."
    echo
  fi
  echo "## How each proxy ran"
  echo
  # shellcheck disable=SC2016  # backquotes are markdown
  printf -- '- `%s`\n' "${commands[@]}"
  if ((${#notes[@]})); then
    echo
    printf -- '- %s\n' "${notes[@]}"
  fi
}

echo
report | tee "${out:-/dev/null}"
[[ -z $out ]] || sp_log "wrote $out"
if ((harness_errors)); then
  sp_die "$harness_errors direct or slotplane runs failed: the harness or the proxy is broken"
fi
