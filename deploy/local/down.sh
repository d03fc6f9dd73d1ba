#!/usr/bin/env bash
# Stops slotplane's local demo (proxy and all cluster nodes) and removes its state directory,
# .run/local/ (or SLOTPLANE_RUN_DIR, as given to up.sh). Only processes named in its pidfiles
# are stopped.
set -euo pipefail

# shellcheck source=deploy/local/cluster_lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/cluster_lib.sh"

run_dir=${SLOTPLANE_RUN_DIR:-$SP_ROOT/.run/local}
shown=${run_dir#"$SP_ROOT"/}

if [[ ! -d $run_dir ]]; then
  sp_log "the local demo is not running (no $shown/)"
  exit 0
fi
if [[ ! -e $run_dir/ports && ! -d $run_dir/nodes && ! -e $run_dir/proxy.pid ]]; then
  sp_die "$shown does not look like a state directory of up.sh; not touching it"
fi

sp_require_cmds redis-cli timeout
failed=0
sp_log "stopping slotplane-proxy"
sp_proxy_stop "$run_dir" || failed=1
sp_log "stopping slotplane-control"
sp_control_stop "$run_dir" || failed=1
sp_log "stopping the cluster nodes"
sp_cluster_stop "$run_dir" || failed=1

if ((failed)); then
  sp_die "some processes could not be stopped; kept $shown/ (pidfiles and logs) for a retry"
fi
rm -rf -- "$run_dir"
sp_log "stopped; removed $shown/"
