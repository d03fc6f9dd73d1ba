# shellcheck shell=bash
# Shared helpers for slotplane's loopback Redis Cluster and proxy. Sourced by deploy/local/up.sh,
# deploy/local/down.sh and tests/bench/proxy_vs_direct.sh; it only defines functions (prefix
# sp_) and never changes the caller's shell options.
#
# Everything binds to 127.0.0.1 and every wait is bounded. State lives in a run directory RUN:
#   RUN/ports                  the node ports, space separated, one line
#   RUN/cluster.created        present once `redis-cli --cluster create` succeeded
#   RUN/cluster-create.log     its output
#   RUN/nodes/PORT/            redis.conf, nodes.conf, redis.log, redis.pid of one node
#   RUN/proxy.pid              pid of slotplane-proxy (written by the process itself)
#   RUN/proxy.port             its client port
#   RUN/proxy.log, proxy.out   its log file and its stdout/stderr

# shellcheck disable=SC2034  # used by the scripts that source this file
SP_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
SP_HOST=127.0.0.1

sp_log() { printf '[slotplane] %s\n' "$*"; }
sp_warn() { printf '[slotplane] warning: %s\n' "$*" >&2; }
sp_die() {
  printf '[slotplane] error: %s\n' "$*" >&2
  exit 1
}

# sp_require_cmds CMD... : fails with a hint when a tool is missing.
sp_require_cmds() {
  local cmd missing=()
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  if ((${#missing[@]})); then
    sp_die "missing tools: ${missing[*]} (run scripts/bootstrap.sh)"
  fi
}

# sp_port_busy PORT : true when something already listens on PORT (any local address).
sp_port_busy() {
  local port=$1
  if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
    return 0
  fi
  # shellcheck disable=SC2016  # $0 and $1 belong to the inner shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$SP_HOST" "$port" 2>/dev/null
}

# sp_check_port_range BASE COUNT : the node ports and their cluster bus ports (+10000) must fit.
sp_check_port_range() {
  local base=$1 count=$2
  [[ $base =~ ^[0-9]+$ ]] || sp_die "base port '$base' is not a number"
  if ((base < 1024 || base + count - 1 + 10000 > 65535)); then
    sp_die "base port $base is out of range: need 1024..$((65535 - 10000 - count + 1)) (bus port = port + 10000)"
  fi
}

# sp_pid_from_file FILE PATTERN... : prints the pid in FILE when that process is alive and its
# command line contains every PATTERN; fails otherwise.
sp_pid_from_file() {
  local file=$1 pid cmdline pattern
  shift
  [[ -r $file ]] || return 1
  read -r pid <"$file" 2>/dev/null || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  for pattern in "$@"; do
    [[ $cmdline == *"$pattern"* ]] || return 1
  done
  printf '%s\n' "$pid"
}

# sp_wait_gone PID SECONDS : waits until PID has exited (or is a zombie); fails on timeout.
sp_wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2)) state
  while ((SECONDS <= deadline)); do
    [[ -r /proc/$pid/stat ]] || return 0
    state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) || return 0
    [[ $state == Z || -z $state ]] && return 0
    sleep 0.1
  done
  return 1
}

# sp_kill_pid PID NAME SECONDS : SIGTERM, then SIGKILL if still there after SECONDS.
sp_kill_pid() {
  local pid=$1 name=$2 grace=$3
  kill -TERM "$pid" 2>/dev/null || return 0
  sp_wait_gone "$pid" "$grace" && return 0
  sp_warn "$name (pid $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || return 0
  sp_wait_gone "$pid" 5
}

# sp_cli PORT ARGS... : redis-cli against one loopback port, bounded.
sp_cli() {
  local port=$1
  shift
  timeout 5 redis-cli -h "$SP_HOST" -p "$port" "$@"
}

sp_node_dir() { printf '%s/nodes/%s\n' "$1" "$2"; }

# sp_node_pid RUN PORT : pid of the node's redis-server when it is running.
sp_node_pid() {
  local pidfile
  pidfile="$(sp_node_dir "$1" "$2")/redis.pid"
  sp_pid_from_file "$pidfile" redis-server ":$2" 2>/dev/null ||
    sp_pid_from_file "$pidfile" redis-server "/nodes/$2/"
}

# sp_cluster_ports RUN : the run's node ports, one per line.
sp_cluster_ports() {
  local ports
  [[ -r $1/ports ]] || return 1
  read -r -a ports <"$1/ports"
  printf '%s\n' "${ports[@]}"
}

# sp_cluster_pids RUN : pids of all running nodes of the run, one per line.
sp_cluster_pids() {
  local port
  for port in $(sp_cluster_ports "$1"); do
    sp_node_pid "$1" "$port" || true
  done
}

# sp_cluster_all_alive RUN : true when the run has nodes and all of them are running.
sp_cluster_all_alive() {
  local port n=0
  for port in $(sp_cluster_ports "$1" 2>/dev/null); do
    sp_node_pid "$1" "$port" >/dev/null || return 1
    n=$((n + 1))
  done
  ((n > 0))
}

# sp_node_start RUN PORT : starts one daemonized cluster node unless it already runs.
sp_node_start() {
  local run=$1 port=$2 dir deadline
  dir=$(sp_node_dir "$run" "$port")
  sp_node_pid "$run" "$port" >/dev/null && return 0
  mkdir -p "$dir"
  cat >"$dir/redis.conf" <<EOF
# Written by slotplane's deploy/local/cluster_lib.sh; regenerated at every start.
port $port
bind $SP_HOST
protected-mode yes
daemonize yes
pidfile "$dir/redis.pid"
logfile "$dir/redis.log"
dir "$dir"
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
save ""
appendonly no
EOF
  if ! redis-server "$dir/redis.conf" >"$dir/start.out" 2>&1; then
    sp_warn "redis-server on port $port failed to start:"
    tail -n 20 "$dir/start.out" "$dir/redis.log" >&2 2>/dev/null || true
    return 1
  fi
  deadline=$((SECONDS + 10))
  until [[ $(sp_cli "$port" PING 2>/dev/null) == PONG ]]; do
    if ((SECONDS > deadline)); then
      sp_warn "redis-server on port $port did not answer PING within 10s; see $dir/redis.log"
      tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
}

# sp_cluster_create RUN : `redis-cli --cluster create` over the run's ports, 1 replica each.
sp_cluster_create() {
  local run=$1 port addrs=()
  for port in $(sp_cluster_ports "$run"); do
    addrs+=("$SP_HOST:$port")
  done
  if ! timeout 120 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes \
    >"$run/cluster-create.log" 2>&1; then
    sp_warn "redis-cli --cluster create failed (full output: $run/cluster-create.log):"
    tail -n 20 "$run/cluster-create.log" >&2
    return 1
  fi
  touch "$run/cluster.created"
}

# sp_cluster_is_ok RUN : every node says cluster_state:ok, all 16384 slots are served, every node
# knows every other node, and every replica's link to its master is up.
sp_cluster_is_ok() {
  local run=$1 port info repl ports
  mapfile -t ports < <(sp_cluster_ports "$run")
  for port in "${ports[@]}"; do
    info=$(sp_cli "$port" CLUSTER INFO 2>/dev/null | tr -d '\r') || return 1
    grep -qx 'cluster_state:ok' <<<"$info" || return 1
    grep -qx 'cluster_slots_ok:16384' <<<"$info" || return 1
    grep -qx "cluster_known_nodes:${#ports[@]}" <<<"$info" || return 1
    repl=$(sp_cli "$port" INFO replication 2>/dev/null | tr -d '\r') || return 1
    if grep -qx 'role:slave' <<<"$repl"; then
      grep -qx 'master_link_status:up' <<<"$repl" || return 1
    fi
  done
}

# sp_cluster_wait_ok RUN SECONDS
sp_cluster_wait_ok() {
  local run=$1 deadline=$((SECONDS + $2))
  until sp_cluster_is_ok "$run"; do
    if ((SECONDS > deadline)); then
      sp_warn "cluster not ok after $2s; CLUSTER INFO of each node:"
      local port
      for port in $(sp_cluster_ports "$run"); do
        printf '  %s: %s\n' "$port" \
          "$(sp_cli "$port" CLUSTER INFO 2>&1 | tr -d '\r' | grep -E '^cluster_(state|slots_ok|known_nodes)' | tr '\n' ' ')" >&2
      done
      return 1
    fi
    sleep 0.5
  done
}

# sp_cluster_up RUN BASE_PORT COUNT : starts COUNT nodes from BASE_PORT (COUNT/2 masters with one
# replica each), creates the cluster once and waits until it is ok. Idempotent: a run directory
# that already has a cluster only gets its stopped nodes restarted (they rejoin from nodes.conf).
sp_cluster_up() {
  local run=$1 base=$2 count=$3 port busy=() ports=()
  if [[ -r $run/ports ]]; then
    mapfile -t ports < <(sp_cluster_ports "$run")
    if [[ ${ports[0]} != "$base" ]]; then
      sp_warn "$run already holds a cluster on ports ${ports[*]}; using those (not $base)"
    fi
  else
    sp_check_port_range "$base" "$count"
    for ((port = base; port < base + count; port++)); do
      ports+=("$port")
      sp_port_busy "$port" && busy+=("$port")
      sp_port_busy $((port + 10000)) && busy+=("$((port + 10000)) (cluster bus of $port)")
    done
    if ((${#busy[@]})); then
      sp_die "ports already in use: ${busy[*]}. Stop whatever listens there or pick other ports (SLOTPLANE_BASE_PORT / BENCH_BASE_PORT)."
    fi
    mkdir -p "$run/nodes"
    printf '%s\n' "${ports[*]}" >"$run/ports"
  fi
  for port in "${ports[@]}"; do
    sp_node_start "$run" "$port" || return 1
  done
  if [[ ! -e $run/cluster.created ]]; then
    sp_log "creating the cluster on ${ports[*]} (3 masters, 3 replicas)"
    sp_cluster_create "$run" || return 1
  fi
  sp_cluster_wait_ok "$run" 60
}

# Makes DIR a fresh run folder for a script that starts its own cluster there: refuses while a
# cluster or proxy started in DIR still runs (another run, or one killed with SIGKILL; naming the
# command that stops a leftover), else removes it.
sp_claim_run_dir() {
  local dir=$1 what=$2
  [[ -d $dir ]] || return 0
  if [[ -n $(sp_cluster_pids "$dir" 2>/dev/null) ]] || sp_proxy_pid "$dir" >/dev/null 2>&1; then
    sp_die "another $what is running in ${dir#"$SP_ROOT"/}/; if it is a leftover, stop it with: SLOTPLANE_RUN_DIR=$dir deploy/local/down.sh"
  fi
  rm -rf -- "$dir"
}

# sp_cluster_stop RUN : SHUTDOWN NOSAVE to every running node, then SIGTERM/SIGKILL by pidfile
# for any that is still there. Fails when a node could not be stopped.
sp_cluster_stop() {
  local run=$1 dir port pid out rc=0
  local -A pids=()
  [[ -d $run/nodes ]] || return 0
  for dir in "$run"/nodes/*/; do
    [[ -d $dir ]] || continue
    port=$(basename "$dir")
    pid=$(sp_node_pid "$run" "$port") || continue
    pids[$port]=$pid
    # NOW (Redis 7) skips waiting for lagging replicas; older servers reject it, so fall back.
    out=$(sp_cli "$port" SHUTDOWN NOSAVE NOW 2>&1) || true
    if [[ $out == *ERR* ]]; then
      sp_cli "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    fi
  done
  for port in "${!pids[@]}"; do
    pid=${pids[$port]}
    sp_wait_gone "$pid" 10 && continue
    sp_kill_pid "$pid" "redis-server on port $port" 5 || {
      sp_warn "could not stop redis-server on port $port (pid $pid)"
      rc=1
    }
  done
  return "$rc"
}

# Extra arguments sp_proxy_start passes to slotplane-proxy (e.g. --control-plane ...).
SP_PROXY_EXTRA_ARGS=()

# sp_control_pid RUN : pid of the run's slotplane-control when it is running.
sp_control_pid() { sp_pid_from_file "$1/control.pid" slotplane-control; }

# sp_control_start RUN BINARY PORT SEED... : starts slotplane-control in the background, its
# durable state in RUN/control/.
# sp_proxy_token_file RUN : prints the path of the local fleet's proxy token (the watch stream's
# credential), creating a random one (mode 0600) the first time.
sp_proxy_token_file() {
  local file=$1/proxy.token
  if [[ ! -s $file ]]; then
    mkdir -p "$1"
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$file")
  fi
  printf '%s\n' "$file"
}

sp_control_start() {
  local run=$1 bin=$2 port=$3 seed args
  shift 3
  if sp_control_pid "$run" >/dev/null; then
    return 0
  fi
  [[ -x $bin ]] || sp_die "control plane binary not found: $bin (build it with scripts/build.sh)"
  sp_port_busy "$port" && sp_die "control plane port $port is already in use (set another one)"
  args=(--listen "$SP_HOST:$port" --data-dir "$run/control" --logfile "$run/control.log"
    --proxy-token-file "$(sp_proxy_token_file "$run")")
  for seed in "$@"; do
    args+=(--cluster "$seed")
  done
  mkdir -p "$run/control"
  rm -f "$run/control.pid"
  printf '%s\n' "$port" >"$run/control.port"
  # shellcheck disable=SC2016  # $0 and $@ belong to the inner shell
  nohup setsid bash -c 'echo "$$" >"$0" && exec "$@"' "$run/control.pid" "$bin" "${args[@]}" \
    >"$run/control.out" 2>&1 </dev/null &
}

# sp_control_wait RUN CTL_BINARY SECONDS : waits until `slotplanectl status` answers.
sp_control_wait() {
  local run=$1 ctl=$2 deadline=$((SECONDS + $3)) port
  read -r port <"$run/control.port"
  until "$ctl" --addr "$SP_HOST:$port" --timeout 2 status >/dev/null 2>&1; do
    if ((SECONDS > deadline)) || ! sp_control_pid "$run" >/dev/null; then
      sp_warn "slotplane-control did not answer on port $port; last lines of its output and log:"
      tail -n 20 "$run/control.out" "$run/control.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
}

# sp_control_stop RUN : SIGTERM, then SIGKILL after 10s.
sp_control_stop() {
  local run=$1 pid
  if pid=$(sp_control_pid "$run"); then
    sp_kill_pid "$pid" slotplane-control 10 || {
      sp_warn "could not stop slotplane-control (pid $pid)"
      return 1
    }
  fi
  rm -f "$run/control.pid"
}

# sp_proxy_pid RUN : pid of the run's slotplane-proxy when it is running.
sp_proxy_pid() { sp_pid_from_file "$1/proxy.pid" slotplane-proxy; }

# sp_proxy_start RUN BINARY PORT THREADS LOG_LEVEL SEED... : starts slotplane-proxy in the
# background, detached from the terminal (nohup + setsid). THREADS may be empty (proxy default).
sp_proxy_start() {
  local run=$1 bin=$2 port=$3 threads=$4 level=$5 seed args
  shift 5
  if sp_proxy_pid "$run" >/dev/null; then
    return 0
  fi
  [[ -x $bin ]] || sp_die "proxy binary not found: $bin (build it with scripts/build.sh)"
  sp_port_busy "$port" && sp_die "proxy port $port is already in use (set another one)"
  args=(--port "$port" --bind "$SP_HOST" --daemonize no --logfile "$run/proxy.log" --log-level "$level")
  [[ -n $threads ]] && args+=(--threads "$threads")
  for seed in "$@"; do
    args+=(--cluster "$seed")
  done
  args+=("${SP_PROXY_EXTRA_ARGS[@]}")
  mkdir -p "$run"
  rm -f "$run/proxy.pid"
  printf '%s\n' "$port" >"$run/proxy.port"
  # The inner shell writes its own pid and then execs the proxy, so the pidfile is right even
  # when setsid has to fork.
  # shellcheck disable=SC2016  # $0 and $@ belong to the inner shell
  nohup setsid bash -c 'echo "$$" >"$0" && exec "$@"' "$run/proxy.pid" "$bin" "${args[@]}" \
    >"$run/proxy.out" 2>&1 </dev/null &
}

# sp_proxy_wait RUN SECONDS : waits until the proxy answers PING with PONG.
sp_proxy_wait() {
  local run=$1 deadline=$((SECONDS + $2)) port started=$SECONDS
  read -r port <"$run/proxy.port"
  until [[ $(sp_cli "$port" PING 2>/dev/null) == PONG ]]; do
    if ! sp_proxy_pid "$run" >/dev/null && { [[ -s $run/proxy.pid ]] || ((SECONDS > started + 5)); }; then
      sp_warn "slotplane-proxy exited during start-up; last lines of its output and log:"
      tail -n 20 "$run/proxy.out" "$run/proxy.log" >&2 2>/dev/null || true
      return 1
    fi
    if ((SECONDS > deadline)); then
      sp_warn "slotplane-proxy did not answer PING on port $port within $2s; see $run/proxy.log"
      tail -n 20 "$run/proxy.out" "$run/proxy.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.2
  done
}

# sp_proxy_stop RUN : SIGTERM, then SIGKILL after 10s.
sp_proxy_stop() {
  local run=$1 pid
  if pid=$(sp_proxy_pid "$run"); then
    sp_kill_pid "$pid" slotplane-proxy 10 || {
      sp_warn "could not stop slotplane-proxy (pid $pid)"
      return 1
    }
  fi
  rm -f "$run/proxy.pid"
}
