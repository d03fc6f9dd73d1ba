#!/usr/bin/env bash
# io_engine_syscalls.sh: what slotplane-proxy costs per request on each I/O engine (epoll,
# io_uring), in paired runs against one cluster: CPU time per request (utime+stime from
# /proc/PID/stat) in a run without any tracing, then syscalls per request counted by `perf stat`
# on the syscall tracepoints in a second, shorter run. GET, 50 clients, keys over 1M. Three
# variants: epoll, io_uring without its receive ring (SLOTPLANE_IO_URING_RECV_RING=off: one-shot
# polls and read(2), as before multishot receive) and io_uring.
#
#   tests/bench/io_engine_syscalls.sh                      # 3 rounds, threads 1 and 2, P1 and P16
#   BENCH_REPS=1 BENCH_THREADS=1 tests/bench/io_engine_syscalls.sh
#
# Environment: BENCH_PROXY_BIN (build/bin/slotplane-proxy), BENCH_REPS (3), BENCH_THREADS ("1 2"),
# BENCH_PIPELINES ("1 16"), BENCH_REQUESTS_P1 (150000; other depths get 8x as many),
# BENCH_BASE_PORT (7601), BENCH_PROXY_PORT (7677), BENCH_RUN_DIR (.run/bench-syscalls).
# Needs perf (Debian: linux-perf) and the right to trace the proxy (root, or
# kernel.perf_event_paranoid <= 1 with access to tracefs). Prints one line per run.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/local/cluster_lib.sh
source "$here/../../deploy/local/cluster_lib.sh"

proxy_bin=${BENCH_PROXY_BIN:-$SP_ROOT/build/bin/slotplane-proxy}
reps=${BENCH_REPS:-3}
read -r -a thread_counts <<<"${BENCH_THREADS:-1 2}"
read -r -a pipelines <<<"${BENCH_PIPELINES:-1 16}"
requests_p1=${BENCH_REQUESTS_P1:-150000}
base_port=${BENCH_BASE_PORT:-7601}
proxy_port=${BENCH_PROXY_PORT:-7677}
run_dir=${BENCH_RUN_DIR:-$SP_ROOT/.run/bench-syscalls}
cpu_sample=$here/cpu_sample.py
clk_tck=$(getconf CLK_TCK)
# The syscalls the proxy's worker threads make on the request path, and all of them.
events=(raw_syscalls:sys_enter syscalls:sys_enter_read syscalls:sys_enter_write
  syscalls:sys_enter_writev syscalls:sys_enter_epoll_wait syscalls:sys_enter_io_uring_enter)
event_args=()
for event in "${events[@]}"; do
  event_args+=(-e "$event")
done

sp_require_cmds redis-server redis-cli redis-benchmark python3 perf getconf timeout setsid nohup awk
[[ -x $proxy_bin ]] || sp_die "proxy binary not found: $proxy_bin"

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -d $run_dir ]]; then
    sp_proxy_stop "$run_dir" || true
    sp_cluster_stop "$run_dir" || true
    ((rc != 0)) || rm -rf -- "$run_dir"
  fi
  exit "$rc"
}
sp_claim_run_dir "$run_dir" benchmark
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sp_cluster_up "$run_dir" "$base_port" 6 || sp_die "the cluster did not come up"
mapfile -t ports < <(sp_cluster_ports "$run_dir")

# stime PID: the proxy's system time so far, in clock ticks (field 15 of /proc/PID/stat; the
# process name has no spaces).
stime() { awk '{ print $15 }' "/proc/$1/stat"; }

# bench PIPELINE REQUESTS: one redis-benchmark GET run through the proxy; prints its ops/s.
bench() {
  timeout -k 5 120 redis-benchmark -h "$SP_HOST" -p "$proxy_port" -c 50 -n "$2" -r 1000000 \
    -P "$1" -t get --csv 2>/dev/null | awk -F, '{ gsub(/"/, "") } $1 == "GET" { print $2; exit }'
}

printf 'round,threads,pipeline,variant,ops_per_s,proxy_us_per_op,kernel_pct,syscalls_per_op,read,write,writev,epoll_wait,io_uring_enter\n'
for ((round = 1; round <= reps; round++)); do
  for threads in "${thread_counts[@]}"; do
    for pipeline in "${pipelines[@]}"; do
      n=$requests_p1
      ((pipeline == 1)) || n=$((requests_p1 * 8))
      for variant in epoll io_uring-poll io_uring; do
        engine=${variant%-poll}
        SP_PROXY_EXTRA_ARGS=(--io-engine "$engine")
        if [[ $variant == io_uring-poll ]]; then
          export SLOTPLANE_IO_URING_RECV_RING=off
        else
          unset SLOTPLANE_IO_URING_RECV_RING
        fi
        sp_proxy_start "$run_dir" "$proxy_bin" "$proxy_port" "$threads" warning \
          "$SP_HOST:${ports[0]}" "$SP_HOST:${ports[1]}"
        sp_proxy_wait "$run_dir" 30 || sp_die "slotplane-proxy did not come up"
        pid=$(sp_proxy_pid "$run_dir")
        bench "$pipeline" 5000 >/dev/null # warm-up: connections to every node, buffers
        t0=$("$cpu_sample" ticks "$pid")
        s0=$(stime "$pid")
        ops=$(bench "$pipeline" "$n")
        t1=$("$cpu_sample" ticks "$pid")
        s1=$(stime "$pid")
        us=$(awk -v t=$((t1 - t0)) -v h="$clk_tck" -v n="$n" 'BEGIN { printf "%.2f", t / h * 1e6 / n }')
        kernel=$(awk -v s=$((s1 - s0)) -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", t ? 100 * s / t : 0 }')
        # Syscalls in a separate, shorter run: tracing costs CPU, which must not count above.
        traced=$((n / 3))
        perf stat -x, -o "$run_dir/perf.csv" -p "$pid" "${event_args[@]}" &
        perf_pid=$!
        sleep 0.5 # perf attaches to every thread of the proxy
        bench "$pipeline" "$traced" >/dev/null
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
        counts=$(awk -F, -v n="$traced" '
          $3 ~ /sys_enter/ { c[$3] = $1 }
          END {
            printf "%.2f,%.2f,%.2f,%.2f,%.2f,%.2f", c["raw_syscalls:sys_enter"] / n,
              c["syscalls:sys_enter_read"] / n, c["syscalls:sys_enter_write"] / n,
              c["syscalls:sys_enter_writev"] / n, c["syscalls:sys_enter_epoll_wait"] / n,
              c["syscalls:sys_enter_io_uring_enter"] / n
          }' "$run_dir/perf.csv")
        printf '%s,%s,%s,%s,%s,%s,%s,%s\n' "$round" "$threads" "$pipeline" "$variant" "$ops" "$us" "$kernel" \
          "$counts"
        sp_proxy_stop "$run_dir"
      done
    done
  done
done
