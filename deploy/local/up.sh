#!/usr/bin/env bash
# slotplane's one-command local demo: installs what is missing, builds, starts a Redis Cluster of
# 3 masters + 3 replicas on 127.0.0.1 and slotplane-proxy in front of it.
#
# Environment:
#   SLOTPLANE_BASE_PORT       first node port (default 7001; nodes use BASE..BASE+5)
#   SLOTPLANE_PROXY_PORT      proxy port (default 7777)
#   SLOTPLANE_CONTROL_PORT    slotplane-control port (default 7700)
#   SLOTPLANE_PROXY_THREADS   proxy worker threads (default: the proxy's own, one per core)
#   SLOTPLANE_PROXY_LOG_LEVEL proxy log level (default info)
#   SLOTPLANE_BUILD_DIR       build directory (default build/)
#   SLOTPLANE_SKIP_BUILD=1    skip bootstrap and build; use what is already built
#   SLOTPLANE_RUN_DIR         state directory (default .run/local/ in the repository)
#
# State, logs and pids live in the state directory; deploy/local/down.sh removes it.
set -euo pipefail

# shellcheck source=deploy/local/cluster_lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/cluster_lib.sh"

run_dir=${SLOTPLANE_RUN_DIR:-$SP_ROOT/.run/local}
base_port=${SLOTPLANE_BASE_PORT:-7001}
proxy_port=${SLOTPLANE_PROXY_PORT:-7777}
control_port=${SLOTPLANE_CONTROL_PORT:-7700}
proxy_threads=${SLOTPLANE_PROXY_THREADS:-}
proxy_level=${SLOTPLANE_PROXY_LOG_LEVEL:-info}
build_dir=${SLOTPLANE_BUILD_DIR:-$SP_ROOT/build}
proxy_bin=$build_dir/bin/slotplane-proxy
node_count=6

rel() { printf '%s\n' "${1#"$SP_ROOT"/}"; }

print_info() {
  local ports first last port
  mapfile -t ports < <(sp_cluster_ports "$run_dir")
  first=${ports[0]}
  last=${ports[${#ports[@]} - 1]}
  echo
  if sp_proxy_pid "$run_dir" >/dev/null; then
    read -r port <"$run_dir/proxy.port"
    echo "  connect:  redis-cli -p $port"
    echo "  proxy:    127.0.0.1:$port, log $(rel "$run_dir")/proxy.log"
  else
    echo "  proxy:    not running ($(rel "$proxy_bin") is not built yet)"
  fi
  if sp_control_pid "$run_dir" >/dev/null; then
    read -r port <"$run_dir/control.port"
    echo "  control:  $(rel "$build_dir")/bin/slotplanectl --addr 127.0.0.1:$port status   (log $(rel "$run_dir")/control.log)"
  fi
  echo "  cluster:  redis-cli -c -p $first   (nodes 127.0.0.1:$first-$last, 3 masters + 3 replicas)"
  echo "  logs:     $(rel "$run_dir")/nodes/<port>/redis.log"
  if [[ -n ${SLOTPLANE_RUN_DIR:-} ]]; then
    echo "  stop:     SLOTPLANE_RUN_DIR=$SLOTPLANE_RUN_DIR deploy/local/down.sh"
  else
    echo "  stop:     deploy/local/down.sh"
  fi
}

proxy_wanted() { [[ -x $proxy_bin ]]; }

if sp_cluster_all_alive "$run_dir" && { ! proxy_wanted || sp_proxy_pid "$run_dir" >/dev/null; }; then
  sp_log "the local demo is already up"
  print_info
  exit 0
fi

sp_check_port_range "$base_port" "$node_count"
[[ $proxy_port =~ ^[0-9]+$ ]] || sp_die "SLOTPLANE_PROXY_PORT '$proxy_port' is not a number"

if [[ ${SLOTPLANE_SKIP_BUILD:-0} != 1 ]]; then
  sp_log "checking packages (scripts/bootstrap.sh)"
  "$SP_ROOT/scripts/bootstrap.sh"
  sp_log "building the three binaries into $(rel "$build_dir") (scripts/build.sh)"
  # Only what the demo runs; scripts/test.sh builds the tests.
  if ! SLOTPLANE_BUILD_TARGETS="slotplane-proxy slotplane-control slotplanectl" \
    "$SP_ROOT/scripts/build.sh" "$build_dir"; then
    sp_die "the build failed (output above). To start the cluster with what is already built: SLOTPLANE_SKIP_BUILD=1 $0"
  fi
fi

sp_require_cmds redis-server redis-cli setsid nohup timeout

sp_log "starting the cluster nodes"
if ! sp_cluster_up "$run_dir" "$base_port" "$node_count"; then
  sp_die "the cluster did not come up; logs under $(rel "$run_dir")/nodes/. Clean up with deploy/local/down.sh"
fi
mapfile -t ports < <(sp_cluster_ports "$run_dir")
sp_log "cluster ok on ${ports[*]}"

control_bin=$build_dir/bin/slotplane-control
ctl_bin=$build_dir/bin/slotplanectl
if [[ -x $control_bin && -x $ctl_bin ]]; then
  if ! sp_control_pid "$run_dir" >/dev/null; then
    sp_log "starting slotplane-control on 127.0.0.1:$control_port"
    sp_control_start "$run_dir" "$control_bin" "$control_port" "$SP_HOST:${ports[0]}" \
      "$SP_HOST:${ports[1]}"
  fi
  if ! sp_control_wait "$run_dir" "$ctl_bin" 30; then
    sp_die "slotplane-control did not come up; see $(rel "$run_dir")/control.log. Clean up with deploy/local/down.sh"
  fi
  SP_PROXY_EXTRA_ARGS=(--control-plane "$SP_HOST:$control_port"
    --control-plane-cache "$run_dir/proxy.snapshot"
    --control-plane-proxy-token-file "$(sp_proxy_token_file "$run_dir")")
fi

if proxy_wanted; then
  if ! sp_proxy_pid "$run_dir" >/dev/null; then
    sp_log "starting slotplane-proxy on 127.0.0.1:$proxy_port"
    sp_proxy_start "$run_dir" "$proxy_bin" "$proxy_port" "$proxy_threads" "$proxy_level" \
      "$SP_HOST:${ports[0]}" "$SP_HOST:${ports[1]}"
  fi
  if ! sp_proxy_wait "$run_dir" 30; then
    sp_die "slotplane-proxy did not come up; see $(rel "$run_dir")/proxy.log. Clean up with deploy/local/down.sh"
  fi
else
  sp_warn "$(rel "$proxy_bin") does not exist; started the cluster only"
fi

sp_log "the local demo is up"
print_info
