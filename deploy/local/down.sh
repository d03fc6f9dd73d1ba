#!/usr/bin/env bash
# Stops slotplane's local demo (proxy and all cluster nodes) and removes .run/local/.
set -euo pipefail

# shellcheck source=deploy/local/cluster_lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/cluster_lib.sh"

run_dir=$SP_ROOT/.run/local

if [[ ! -d $run_dir ]]; then
  sp_log "the local demo is not running (no .run/local/)"
  exit 0
fi

sp_require_cmds redis-cli timeout
failed=0
sp_log "stopping slotplane-proxy"
sp_proxy_stop "$run_dir" || failed=1
sp_log "stopping the cluster nodes"
sp_cluster_stop "$run_dir" || failed=1

if ((failed)); then
  sp_die "some processes could not be stopped; kept .run/local/ (pidfiles and logs) for a retry"
fi
rm -rf -- "$run_dir"
sp_log "stopped; removed .run/local/"
