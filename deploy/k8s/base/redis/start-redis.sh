#!/usr/bin/env bash
# Starts one node of the redis-cluster StatefulSet (the container's command).
#
#  1. nodes.conf lives on the pod's PersistentVolumeClaim and keeps the node's identity across
#     restarts, but a restarted pod has a new IP. The address of the `myself` line is rewritten to
#     $POD_IP; so is the address of every peer whose announced hostname
#     (cluster-announce-hostname, below) resolves, waiting up to REDIS_PEER_WAIT_SECONDS for
#     them: a cluster whose pods all moved at once finds itself again.
#  2. The password comes from $REDISCLI_AUTH (a Secret key). It reaches redis-server on standard
#     input (`redis-server FILE -`), never in a ConfigMap or the process's arguments (ps), and is
#     removed from the environment redis-server inherits. redis-cli reads the same variable, so
#     probes and the cluster-create Job need no password argument either.
#
# Environment: POD_IP, POD_NAME (downward API), REDISCLI_AUTH (Secret), REDIS_SERVICE (the
# headless Service, default redis-cluster), REDIS_CONF (default /etc/redis/redis.conf),
# REDIS_NODES_CONF (default /data/nodes.conf), REDIS_PEER_WAIT_SECONDS (default 20).
set -euo pipefail

log() { printf 'start-redis: %s\n' "$*" >&2; }

: "${POD_IP:?POD_IP is not set (downward API status.podIP)}"
: "${POD_NAME:?POD_NAME is not set (downward API metadata.name)}"
: "${REDISCLI_AUTH:?REDISCLI_AUTH is not set (Secret redis-auth, key password)}"
conf_file=${REDIS_CONF:-/etc/redis/redis.conf}
nodes_file=${REDIS_NODES_CONF:-/data/nodes.conf}
service=${REDIS_SERVICE:-redis-cluster}
peer_wait=${REDIS_PEER_WAIT_SECONDS:-20}
my_hostname=$POD_NAME.$service

# peer_hostnames: the hostnames nodes.conf records for the other nodes. A line is
# `<id> <ip>:<port>@<cport>[,<hostname>] <flags> ...`; the last line is `vars ...`.
peer_hostnames() {
  awk '$1 != "vars" && $3 !~ /(^|,)myself(,|$)/ && index($2, ",") { print substr($2, index($2, ",") + 1) }' \
    "$nodes_file"
}

# resolve NAME: the first address of NAME, or nothing.
resolve() { getent hosts "$1" 2>/dev/null | awk 'NR == 1 { print $1 }'; }

# fix_nodes_conf: rewrites the addresses in nodes.conf (atomically, keeping a backup of the
# original as nodes.conf.bak).
fix_nodes_conf() {
  local -a names=() pending=() map=()
  local name ip deadline=$((SECONDS + peer_wait))
  mapfile -t names < <(peer_hostnames)
  pending=("${names[@]}")
  while ((${#pending[@]})); do
    local -a still=()
    for name in "${pending[@]}"; do
      ip=$(resolve "$name")
      if [[ -n $ip ]]; then
        map+=("$name=$ip")
      else
        still+=("$name")
      fi
    done
    pending=("${still[@]}")
    ((${#pending[@]} == 0 || SECONDS >= deadline)) && break
    sleep 1
  done
  ((${#pending[@]} == 0)) || log "peers not resolvable yet, addresses kept: ${pending[*]}"

  cp -p "$nodes_file" "$nodes_file.bak"
  awk -v myip="$POD_IP" -v peers="${map[*]}" '
    BEGIN {
      n = split(peers, pairs, " ")
      for (i = 1; i <= n; i++) {
        eq = index(pairs[i], "=")
        ipof[substr(pairs[i], 1, eq - 1)] = substr(pairs[i], eq + 1)
      }
    }
    # Replaces the IP of "ip:port@cport[,hostname]" (an IPv6 IP is written without brackets).
    function readdress(addr, ip,    at, hostport, rest, colon) {
      at = index(addr, "@")
      if (at == 0) return addr
      hostport = substr(addr, 1, at - 1)
      rest = substr(addr, at)
      colon = match(hostport, /:[0-9]+$/)
      if (colon == 0) return addr
      return ip substr(hostport, colon) rest
    }
    $1 != "vars" && NF >= 3 {
      host = index($2, ",") ? substr($2, index($2, ",") + 1) : ""
      if ($3 ~ /(^|,)myself(,|$)/) {
        $2 = readdress($2, myip)
      } else if (host != "" && (host in ipof)) {
        $2 = readdress($2, ipof[host])
      }
    }
    { print }
  ' "$nodes_file.bak" >"$nodes_file.tmp"
  mv "$nodes_file.tmp" "$nodes_file"
  log "nodes.conf: myself is now $POD_IP; ${#map[@]} of ${#names[@]} peer address(es) refreshed"
}

if [[ -s $nodes_file ]]; then
  fix_nodes_conf
else
  log "no $nodes_file yet: a new node (the cluster-create Job joins it)"
fi

# Redis's config syntax: a double-quoted value with \ and " escaped.
quote() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
password=$(quote "$REDISCLI_AUTH")
unset REDISCLI_AUTH

exec redis-server "$conf_file" - <<EOF
requirepass $password
masterauth $password
cluster-announce-hostname $my_hostname
EOF
