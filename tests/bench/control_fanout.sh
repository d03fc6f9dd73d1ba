#!/usr/bin/env bash
# How long a policy change takes to reach 1,000 proxies: starts a Redis Cluster and
# slotplane-control on their own ports, runs control_fanout (simulated proxy watch streams on
# gRPC's callback client API) against it, prints the latencies and the control plane's RSS,
# threads and CPU, and always stops what it started. Measures; never passes or fails on timing.
# See README.md.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/local/cluster_lib.sh
source "$here/../../deploy/local/cluster_lib.sh"

usage() {
  cat <<'EOF2'
usage: tests/bench/control_fanout.sh [--streams N] [--channels N] [--rounds N] [--replicas N]

  --streams N    simulated proxies, one watch stream each (default 1000; BENCH_STREAMS)
  --channels N   TCP connections the streams share (default 8; BENCH_CHANNELS)
  --rounds N     policy changes to time (default 20; BENCH_ROUNDS)
  --replicas N   N > 1: N slotplane-control replicas on one etcd member (--store etcd://), the
                 streams spread over them, the changes made through the first (default 1: one
                 control plane on the file store; BENCH_REPLICAS)

Other environment: BENCH_BASE_PORT (7301; nodes use BASE..BASE+5), BENCH_CONTROL_PORT (7370),
BENCH_RUN_TIMEOUT (seconds for the client, 300), BENCH_ETCD_PORT (7380; its peer port +1), SLOTPLANE_BUILD_DIR (default build; needs
bin/slotplane-control, bin/slotplanectl, bin/control_fanout), BENCH_RUN_DIR (.run/bench-control).
EOF2
}

streams=${BENCH_STREAMS:-1000}
channels=${BENCH_CHANNELS:-8}
rounds=${BENCH_ROUNDS:-20}
replicas=${BENCH_REPLICAS:-1}
etcd_port=${BENCH_ETCD_PORT:-7380}
base_port=${BENCH_BASE_PORT:-7301}
control_port=${BENCH_CONTROL_PORT:-7370}
run_timeout=${BENCH_RUN_TIMEOUT:-300}
build_dir=${SLOTPLANE_BUILD_DIR:-$SP_ROOT/build}

while (($#)); do
  case $1 in
    --streams) streams=${2:?--streams needs a number}; shift 2 ;;
    --channels) channels=${2:?--channels needs a number}; shift 2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift 2 ;;
    --replicas) replicas=${2:?--replicas needs a number}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; sp_die "unknown argument: $1" ;;
  esac
done
for var in streams channels rounds replicas control_port run_timeout; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || sp_die "$var must be a positive integer, got '${!var}'"
done
sp_require_cmds redis-server redis-cli timeout setsid nohup
for bin in slotplane-control slotplanectl control_fanout; do
  [[ -x $build_dir/bin/$bin ]] || sp_die "$build_dir/bin/$bin is missing (build it: scripts/build.sh)"
done
for ((i = 0; i < replicas; ++i)); do
  sp_port_busy $((control_port + i)) && sp_die "port $((control_port + i)) is in use (BENCH_CONTROL_PORT)"
done
if ((replicas > 1)); then
  sp_require_cmds etcd etcdctl
  sp_port_busy "$etcd_port" && sp_die "port $etcd_port is in use (BENCH_ETCD_PORT)"
fi

run_dir=${BENCH_RUN_DIR:-$SP_ROOT/.run/bench-control}
node_count=6
control_pid=
control_pids=()
etcd_pid=

finish() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${control_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    sp_wait_gone "$pid" 10 || sp_kill_pid "$pid" slotplane-control 5 || true
  done
  if [[ -n $etcd_pid ]]; then
    kill -TERM "$etcd_pid" 2>/dev/null || true
    sp_wait_gone "$etcd_pid" 10 || sp_kill_pid "$etcd_pid" etcd 5 || true
  fi
  if [[ -d $run_dir ]]; then
    sp_log "stopping the benchmark's cluster"
    sp_cluster_stop "$run_dir" || true
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

sp_log "starting a cluster on 127.0.0.1:$base_port-$((base_port + node_count - 1))"
sp_cluster_up "$run_dir" "$base_port" "$node_count" || sp_die "the cluster did not come up"
mapfile -t ports < <(sp_cluster_ports "$run_dir")

# The watch streams' credential: slotplane-control and control_fanout read the same variable.
SLOTPLANE_PROXY_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export SLOTPLANE_PROXY_TOKEN
store=(--data-dir "$run_dir/control-data")
if ((replicas > 1)); then
  sp_log "starting etcd on 127.0.0.1:$etcd_port"
  peer="http://$SP_HOST:$((etcd_port + 1))"
  setsid nohup etcd --name bench --data-dir "$run_dir/etcd-data" \
    --listen-client-urls "http://$SP_HOST:$etcd_port" --advertise-client-urls "http://$SP_HOST:$etcd_port" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "bench=$peer" \
    </dev/null >"$run_dir/etcd.log" 2>&1 &
  etcd_pid=$!
  healthy=0
  for _ in $(seq 1 300); do
    if etcdctl --endpoints "$SP_HOST:$etcd_port" endpoint health >/dev/null 2>&1; then
      healthy=1
      break
    fi
    kill -0 "$etcd_pid" 2>/dev/null || sp_die "etcd exited; see ${run_dir#"$SP_ROOT"/}/etcd.log"
    sleep 0.1
  done
  ((healthy)) || sp_die "etcd was not healthy within 30 s"
  store=(--store "etcd://$SP_HOST:$etcd_port")
fi
addrs=()
for ((i = 0; i < replicas; ++i)); do
  port=$((control_port + i))
  sp_log "starting slotplane-control on 127.0.0.1:$port"
  setsid nohup "$build_dir/bin/slotplane-control" --listen "$SP_HOST:$port" \
    --cluster "$SP_HOST:${ports[0]}" "${store[@]}" --replica-id "bench-$i" --log-level warning \
    --logfile "$run_dir/control-$i.log" </dev/null >"$run_dir/control-$i.out" 2>&1 &
  control_pids+=($!)
  addrs+=("$SP_HOST:$port")
  ready=0
  for _ in $(seq 1 300); do
    if "$build_dir/bin/slotplanectl" --addr "$SP_HOST:$port" --timeout 2 status >/dev/null 2>&1; then
      ready=1
      break
    fi
    kill -0 "${control_pids[-1]}" 2>/dev/null || sp_die "slotplane-control exited; see ${run_dir#"$SP_ROOT"/}/control-$i.out"
    sleep 0.1
  done
  ((ready)) || sp_die "slotplane-control on $port did not answer within 30 s"
done
control_pid=${control_pids[0]}

cores=$(nproc)
commit=$(git -C "$SP_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "slotplane benchmark: control-plane fan-out, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "host: $cores cores, slotplane $commit; cluster: 3 masters + 3 replicas; client and control plane share the cores"
echo
addr_list=$(
  IFS=,
  echo "${addrs[*]}"
)
if ((replicas > 1)); then
  echo "control plane: $replicas replicas on one etcd member (etcd $(etcd --version | sed -n 's/^etcd Version: //p')), streams spread over them, changes through the first"
fi
timeout -k 5 "$run_timeout" "$build_dir/bin/control_fanout" --addr "$addr_list" \
  --streams "$streams" --channels "$channels" --rounds "$rounds" --control-pid "$control_pid"
