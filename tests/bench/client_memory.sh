#!/usr/bin/env bash
# Memory per client of slotplane-proxy: RSS before any client, with N clients connected that
# each did one GET and stayed idle, and after they all closed. Several binaries (e.g. main's and a
# branch's) are measured in one run against the same cluster. Not a pass/fail test.
#
#   tests/bench/client_memory.sh [PROXY_BIN...]      (default build/bin/slotplane-proxy)
#
# Environment: MEM_CLIENTS (10000), MEM_THREADS (2), MEM_SETTLE_S (seconds to wait before each
# idle/closed sample, 3: the proxy's once-a-second cron runs in between), MEM_NO_TRIM=1 (also run each binary with
# malloc_trim turned into a no-op through LD_PRELOAD, to see what the trim gives back).
# Starts its own 3-master cluster and proxy on free ports, and always stops them.
set -euo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
clients=${MEM_CLIENTS:-10000}
threads=${MEM_THREADS:-2}
settle=${MEM_SETTLE_S:-3}
# Four free ports below 50000 whose cluster-bus port (+10000) is free too, so runs of other
# benchmarks never collide.
read -r -a ports < <(python3 -c '
import random, socket
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
ports = []
while len(ports) < 4:
    p = random.randrange(20000, 50000)
    if p not in ports and free(p) and free(p + 10000):
        ports.append(p)
print(" ".join(map(str, ports)))')
proxy_port=${ports[3]}
bins=("$@")
((${#bins[@]})) || bins=("$root/build/bin/slotplane-proxy")

for tool in redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "client_memory: $tool not found" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)"
((clients + 100 <= $(ulimit -n))) || { echo "client_memory: open-file limit too low" >&2; exit 1; }

run=$(mktemp -d /tmp/slotplane-client-memory.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap cleanup EXIT

wait_for() {  # wait_for SECONDS CMD...: polls CMD until it succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

nodes=()
for i in 0 1 2; do
  port=${ports[$i]}
  mkdir -p "$run/$port"
  (cd "$run/$port" && exec redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
    --save '' --appendonly no --daemonize no --logfile "$run/$port/log") &
  pids+=($!)
  nodes+=("127.0.0.1:$port")
done
for i in 0 1 2; do
  wait_for 10 redis-cli -p "${ports[$i]}" ping
  kill -0 "${pids[$i]}" || { echo "client_memory: redis-server on ${ports[$i]} failed" >&2; exit 1; }
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$run/create.log"
for node in "${nodes[@]}"; do
  wait_for 30 bash -c "redis-cli -p ${node#*:} cluster info | grep -q cluster_state:ok"
done

preload=""
if [[ ${MEM_NO_TRIM:-} == 1 ]]; then
  printf '#include <stddef.h>\nint malloc_trim(size_t pad) { (void)pad; return 0; }\n' >"$run/no_trim.c"
  cc -shared -fPIC -o "$run/no_trim.so" "$run/no_trim.c"
  preload="$run/no_trim.so"
fi

measure() {  # measure LABEL BIN [PRELOAD]
  local label=$1 bin=$2 lib=${3:-}
  LD_PRELOAD=$lib "$bin" --port "$proxy_port" --bind 127.0.0.1 --threads "$threads" \
    --cluster "${nodes[0]}" --log-level warning >"$run/proxy.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_for 30 bash -c "redis-cli -p $proxy_port get k | grep -q vvv"
  python3 - "$label" "$pid" "$proxy_port" "$clients" "$settle" <<'PY'
import socket, sys, time
label, pid, port, n, settle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
get = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
time.sleep(settle)
before = rss_kb()
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(get)
    got = b""
    while not got.endswith(b"\r\n") or got.count(b"\r\n") < 2:
        got += s.recv(4096)
    socks.append(s)
right_after = rss_kb()
time.sleep(settle)
idle = rss_kb()
for s in socks:
    s.close()
time.sleep(settle)
closed = rss_kb()
per = lambda kb: (kb - before) / n
print(f"| {label} | {before/1024:.1f} | {right_after/1024:.1f} ({per(right_after):.2f}) | "
      f"{idle/1024:.1f} ({per(idle):.2f}) | {closed/1024:.1f} ({per(closed):.2f}) |")
PY
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

redis-cli -c -p "${nodes[0]#*:}" set k "$(head -c 100 /dev/zero | tr '\0' v)" >/dev/null
echo "$clients clients, one GET each (100-byte value), $threads proxy threads; RSS in MB (KB per client)"
echo
echo "| binary | before | all connected, right after the GET | idle ${settle} s later | ${settle} s after all closed |"
echo "|---|---|---|---|---|"
for bin in "${bins[@]}"; do
  measure "$bin" "$bin"
  [[ -n $preload ]] && measure "$bin (malloc_trim off)" "$bin" "$preload"
done
