#!/usr/bin/env bash
# The slotplane image's HEALTHCHECK. It finds what the container runs from PID 1's command line:
#   slotplane-proxy    `redis-cli PING` on the client port answers PONG, or NOAUTH when the
#                      proxy has requirepass or users (it answered in RESP: it serves)
#   slotplane-control  the gRPC port accepts TCP connections
#   anything else      healthy (slotplanectl and one-off commands)
# The port is the one given with -p/--port/--listen on the command line, else
# SLOTPLANE_HEALTHCHECK_PORT, else the default (7777, or 7700 for the control plane). A port set
# only in a config file needs SLOTPLANE_HEALTHCHECK_PORT.
set -euo pipefail

mapfile -d '' -t argv </proc/1/cmdline || exit 0
# Under `docker run --init` PID 1 is docker-init (tini): the command follows its `--`.
if ((${#argv[@]})) && [[ ${argv[0]##*/} == docker-init || ${argv[0]##*/} == tini ]]; then
  for ((i = 0; i < ${#argv[@]}; i++)); do
    if [[ ${argv[i]} == -- ]]; then
      argv=("${argv[@]:i+1}")
      break
    fi
  done
fi
((${#argv[@]})) || exit 0
binary=${argv[0]##*/}

# flag_value NAME...: the value after the last of the named flags on PID 1's command line.
flag_value() {
  local i name value=
  for ((i = 1; i + 1 < ${#argv[@]}; i++)); do
    for name in "$@"; do [[ ${argv[i]} == "$name" ]] && value=${argv[i + 1]}; done
  done
  printf '%s' "$value"
}

case $binary in
  slotplane-proxy)
    port=$(flag_value -p --port)
    port=${port:-${SLOTPLANE_HEALTHCHECK_PORT:-7777}}
    reply=$(timeout 3 redis-cli -h 127.0.0.1 -p "$port" PING 2>&1) || exit 1
    [[ $reply == PONG || $reply == NOAUTH* ]]
    ;;
  slotplane-control)
    listen=$(flag_value --listen)
    host=127.0.0.1
    port=${SLOTPLANE_HEALTHCHECK_PORT:-7700}
    if [[ -n $listen ]]; then
      port=${listen##*:}
      host=${listen%:*}
      host=${host#[}
      host=${host%]}
      [[ $host == 0.0.0.0 || $host == :: || -z $host ]] && host=127.0.0.1
    fi
    # shellcheck disable=SC2016  # $0 and $1 belong to the inner shell
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port"
    ;;
  *) exit 0 ;;
esac
