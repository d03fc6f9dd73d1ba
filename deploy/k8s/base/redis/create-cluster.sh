#!/usr/bin/env bash
# The redis-cluster-create Job: makes the StatefulSet's pods one Redis Cluster, once.
#
# Idempotent, so the Job can run again at any time (kubectl delete job, kubectl apply -k):
#  - no node has a slot assigned: `redis-cli --cluster create ... --cluster-replicas N`;
#  - slots are assigned: nothing to create. A node that knows no other node (a pod whose
#    PersistentVolumeClaim was lost) is added as a replica (`redis-cli --cluster add-node
#    --cluster-slave`), and the entry its old identity left in the other nodes' tables (flagged
#    fail or noaddr, same hostname) is removed with CLUSTER FORGET;
#  - in every case, it waits until every node reports cluster_state:ok.
# Anything else (nodes that know each other but hold no slot, keys on a lone node) stops the Job
# with the commands to look at it: it never resets a node.
#
# Nodes are reached by IP (REDIS_STATEFULSET-i.REDIS_SERVICE resolved with getent): Redis 7.0's
# CLUSTER MEET takes IPs only. redis-cli reads the password from $REDISCLI_AUTH (a Secret key).
#
# Environment: REDISCLI_AUTH (Secret), REDIS_STATEFULSET (default redis-cluster), REDIS_SERVICE
# (its headless Service, default redis-cluster), REDIS_NODES (default 6), REDIS_REPLICAS (default
# 1), REDIS_PORT (default 6379), REDIS_WAIT_SECONDS (default 600).
set -euo pipefail

log() { printf 'create-cluster: %s\n' "$*"; }
die() {
  printf 'create-cluster: error: %s\n' "$*" >&2
  exit 1
}

: "${REDISCLI_AUTH:?REDISCLI_AUTH is not set (Secret redis-auth, key password)}"
statefulset=${REDIS_STATEFULSET:-redis-cluster}
service=${REDIS_SERVICE:-redis-cluster}
count=${REDIS_NODES:-6}
replicas=${REDIS_REPLICAS:-1}
port=${REDIS_PORT:-6379}
wait_seconds=${REDIS_WAIT_SECONDS:-600}
deadline=$((SECONDS + wait_seconds))

resolve() { getent hosts "$1" 2>/dev/null | awk 'NR == 1 { print $1 }'; }
cli() {
  local ip=$1
  shift
  redis-cli --no-auth-warning -h "$ip" -p "$port" "$@"
}
# info_field IP FIELD: one field of CLUSTER INFO.
info_field() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }
# address IP: host:port as redis-cli --cluster wants it (IPv6 bare, as redis-cli accepts).
address() { printf '%s:%s\n' "$1" "$port"; }
# stale_ids IP NAME: ids of the nodes that IP's table lists as failed or address-less under the
# announced hostname NAME (CLUSTER NODES: `<id> <ip>:<port>@<cport>[,<hostname>] <flags> ...`).
stale_ids() {
  cli "$1" cluster nodes 2>/dev/null | tr -d '\r' |
    awk -v n="$2" '{ h = index($2, ",") ? substr($2, index($2, ",") + 1) : "" }
                   h == n && $3 ~ /(^|,)(fail|noaddr)(,|$)/ { print $1 }'
}

names=()
for ((i = 0; i < count; i++)); do names+=("$statefulset-$i.$service"); done

log "waiting for ${count} nodes (${names[0]} ... ${names[count - 1]}) to answer PING"
ips=()
for name in "${names[@]}"; do
  while :; do
    ip=$(resolve "$name")
    if [[ -n $ip ]] && [[ $(cli "$ip" ping 2>/dev/null) == PONG ]]; then
      ips+=("$ip")
      log "  $name is $ip"
      break
    fi
    ((SECONDS < deadline)) || die "$name does not answer PING after ${wait_seconds}s"
    sleep 2
  done
done

assigned=()
fresh=()
for i in "${!ips[@]}"; do
  slots=$(info_field "${ips[i]}" cluster_slots_assigned)
  known=$(info_field "${ips[i]}" cluster_known_nodes)
  [[ $slots =~ ^[0-9]+$ && $known =~ ^[0-9]+$ ]] ||
    die "${names[i]}: CLUSTER INFO did not answer (is cluster-enabled yes set?)"
  ((slots > 0)) && assigned+=("$i")
  ((known == 1 && slots == 0)) && fresh+=("$i")
done

if ((${#assigned[@]} == 0)); then
  ((${#fresh[@]} == count)) ||
    die "no node has slots, but some already know other nodes; inspect with: redis-cli -h ${ips[0]} cluster nodes (and redis-cli --cluster check)"
  args=()
  for ip in "${ips[@]}"; do args+=("$(address "$ip")"); done
  log "no slot assigned anywhere: creating the cluster (${count} nodes, ${replicas} replica(s) per master)"
  redis-cli --no-auth-warning --cluster create "${args[@]}" --cluster-replicas "$replicas" --cluster-yes
else
  log "slots are assigned (on ${#assigned[@]} node(s)): the cluster exists, nothing to create"
  seed=$(address "${ips[${assigned[0]}]}")
  for i in "${fresh[@]}"; do
    log "${names[i]} knows no other node (new volume?): adding it as a replica"
    redis-cli --no-auth-warning --cluster add-node "$(address "${ips[i]}")" "$seed" --cluster-slave
    for id in $(stale_ids "${ips[${assigned[0]}]}" "${names[i]}"); do
      log "forgetting ${names[i]}'s old identity $id on every node"
      for ip in "${ips[@]}"; do cli "$ip" cluster forget "$id" >/dev/null 2>&1 || true; done
    done
  done
fi

log "waiting for cluster_state:ok on every node"
for i in "${!ips[@]}"; do
  until [[ $(info_field "${ips[i]}" cluster_state) == ok ]]; do
    ((SECONDS < deadline)) ||
      die "${names[i]} is not cluster_state:ok after ${wait_seconds}s; inspect with: redis-cli --cluster check ${ips[i]}:${port}"
    sleep 2
  done
done
log "cluster_state:ok on all ${count} nodes"
