#!/usr/bin/env bash
# Tries start-redis.sh and create-cluster.sh on this machine, without Kubernetes: six
# redis-server processes stand for the six pods, each on its own loopback address (127.0.1.N:PORT)
# and a stand-in `getent` resolves the pods' names (redis-cluster-N.redis-cluster).
#
#  1. create: the Job's script makes them one cluster (3 masters + 3 replicas);
#  2. again: running it a second time changes nothing;
#  3. new addresses: every node restarts on 127.0.2.N (new pod IPs); start-redis.sh rewrites
#     nodes.conf and the cluster is ok again without the Job;
#  4. lost volume: one node restarts with no data; the Job re-adds it as a replica and the other
#     nodes forget its old identity.
#
#   deploy/k8s/base/redis/test_scripts.sh        (SLOTPLANE_REDIS_TEST_PORT, default 6390)
#
# Needs redis-server and redis-cli (scripts/bootstrap.sh). Listens only on 127.0.1.1-6 and
# 127.0.2.1-6; stops every process it started, also on failure. Prints "N passed, N failed".
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
port=${SLOTPLANE_REDIS_TEST_PORT:-6390}
export REDISCLI_AUTH='test "pass" \word'
work=$(mktemp -d "${TMPDIR:-/tmp}/slotplane-redis-test.XXXXXX")
passed=0
failed=0

for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "test_scripts: $tool not found (scripts/bootstrap.sh)" >&2
    exit 1
  }
done

stop_node() {
  local pidfile=$work/n$1/redis.pid pid
  [[ -r $pidfile ]] || return 0
  read -r pid <"$pidfile" || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  for i in 0 1 2 3 4 5; do stop_node "$i"; done
  rm -rf "$work"
}
trap cleanup EXIT

# A stand-in for getent: `getent hosts NAME` answers from $work/hosts.
mkdir -p "$work/bin"
cat >"$work/bin/getent" <<EOF
#!/usr/bin/env bash
[[ \$1 == hosts ]] || exit 2
awk -v n="\$2" '\$2 == n { print \$1 "  " \$2; found = 1 } END { exit !found }' "$work/hosts"
EOF
chmod +x "$work/bin/getent"
export PATH=$work/bin:$PATH
: >"$work/hosts"

start_node() { # start_node N IP
  local i=$1 ip=$2 dir=$work/n$1
  mkdir -p "$dir"
  # The pod's redis.conf, with this machine's address, port and paths.
  sed -e "s|^bind .*|bind $ip|" -e "s|^port .*|port $port|" -e "s|^dir .*|dir $dir|" \
    -e "s|/data/nodes.conf|$dir/nodes.conf|" "$here/redis.conf" >"$dir/redis.conf"
  # Loopback stands in for a pod network: the cluster bus must announce the node's own
  # address, which a pod's single interface gives without this line.
  printf 'daemonize yes\nlogfile %s/redis.log\npidfile %s/redis.pid\ncluster-announce-ip %s\n' \
    "$dir" "$dir" "$ip" >>"$dir/redis.conf"
  grep -v " redis-cluster-$i.redis-cluster\$" "$work/hosts" >"$work/hosts.new" || true
  echo "$ip redis-cluster-$i.redis-cluster" >>"$work/hosts.new"
  mv "$work/hosts.new" "$work/hosts"
  POD_IP=$ip POD_NAME=redis-cluster-$i REDIS_CONF=$dir/redis.conf REDIS_NODES_CONF=$dir/nodes.conf \
    REDIS_PEER_WAIT_SECONDS=5 bash "$here/start-redis.sh" >>"$work/start.log" 2>&1
}

run_job() {
  REDIS_PORT=$port REDIS_WAIT_SECONDS=60 bash "$here/create-cluster.sh" >>"$work/job.log" 2>&1
}

cli() { redis-cli --no-auth-warning -h "$1" -p "$port" "${@:2}" | tr -d '\r'; }

check() { # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then
    echo "ok: $name"
    passed=$((passed + 1))
  else
    echo "FAILED: $name"
    failed=$((failed + 1))
  fi
}

# all_ok PREFIX: every node on PREFIX.1-6 says cluster_state:ok (waiting up to 30 s).
all_ok() {
  local deadline=$((SECONDS + 30)) i
  while ((SECONDS < deadline)); do
    for i in 1 2 3 4 5 6; do
      [[ $(cli "$1.$i" cluster info | awk -F: '$1 == "cluster_state" { print $2 }') == ok ]] ||
        continue 2
    done
    return 0
  done
  return 1
}
# masters IP N: IP counts N masters that serve slots (cluster_size).
masters() { [[ $(cli "$1" cluster info | awk -F: '$1 == "cluster_size" { print $2 }') == "$2" ]]; }
no_stale() { ! cli "$1" cluster nodes | grep -qE 'noaddr|fail'; }
# nodes_seen IP N: IP's table lists N nodes, each connected.
nodes_seen() {
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    [[ $(cli "$1" cluster nodes | grep -c ' connected') == "$2" ]] && return 0
    sleep 1
  done
  return 1
}

for i in 0 1 2 3 4 5; do start_node "$i" "127.0.1.$((i + 1))"; done
check "the Job creates the cluster" run_job
check "cluster_state:ok on all 6 nodes" all_ok 127.0.1
check "3 masters serve the slots" masters 127.0.1.1 3
id_before=$(cli 127.0.1.1 cluster myid)
check "the Job again: nothing to create" run_job
check "the Job said so" grep -q "nothing to create" "$work/job.log"

for i in 0 1 2 3 4 5; do stop_node "$i"; done
for i in 0 1 2 3 4 5; do start_node "$i" "127.0.2.$((i + 1))"; done
check "start-redis.sh rewrote every address" grep -q "myself is now 127.0.2.6; 5 of 5" "$work/start.log"
check "new addresses: cluster_state:ok without the Job" all_ok 127.0.2
check "the node kept its identity" test "$(cli 127.0.2.1 cluster myid)" == "$id_before"

stop_node 5
rm -rf "$work/n5"
start_node 5 127.0.2.6
check "lost volume: the Job re-adds the node" run_job
check "cluster_state:ok after that" all_ok 127.0.2
check "6 connected nodes" nodes_seen 127.0.2.1 6
check "its old identity is forgotten" no_stale 127.0.2.1

if ((failed)); then
  echo "--- create-cluster.sh output"
  cat "$work/job.log"
  echo "--- start-redis.sh output"
  cat "$work/start.log"
fi
echo "$passed passed, $failed failed"
((failed == 0))
