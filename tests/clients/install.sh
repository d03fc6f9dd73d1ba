#!/usr/bin/env bash
# Installs the client matrix's npm libraries (package.json, exact versions pinned by the committed
# package-lock.json) into tests/clients/node_modules with `npm ci`, once: a stamp with the lock
# file's SHA-256 skips the install while the lock file is unchanged.
#
#   tests/clients/install.sh
#
# Exit code 0: installed (or already there); 77: cannot install here (no node/npm, or the npm
# registry unreachable) outside CI — the reason is printed and CTest reports the test skipped;
# 1: the same in CI (CI=true): a loud failure, never a skip. The install is bounded (300 s, two
# fetch retries of at most 30 s each).
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

unavailable() {
  if [[ ${CI:-} == true ]]; then
    printf 'clients: FAILED (CI): %s\n' "$*" >&2
    exit 1
  fi
  printf 'clients: SKIPPED: %s\n' "$*"
  exit 77
}

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 ||
    unavailable "$tool not found (scripts/bootstrap.sh installs Debian's nodejs and npm)"
done

stamp=node_modules/.slotplane-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
printf 'clients: npm ci (node %s, npm %s)\n' "$(node --version)" "$(npm --version)"
log=$(mktemp "${TMPDIR:-/tmp}/slotplane-npm.XXXXXX")
trap 'rm -f "$log"' EXIT
if ! timeout 300 npm ci --no-audit --no-fund --loglevel=error --fetch-retries=2 \
  --fetch-timeout=30000 >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  unavailable "npm ci failed (is the npm registry reachable?); its output is above"
fi
printf '%s\n' "$want" >"$stamp"
