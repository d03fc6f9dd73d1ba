#!/usr/bin/env bash
# Creates, or rotates, the Secrets that deploy/k8s/ references. Nothing secret is kept in git.
#
#   deploy/k8s/secrets.sh [-n NAMESPACE] [--dry-run] [--rotate NAME]...
#
# | Secret                | key                   | used by                                          |
# |-----------------------|-----------------------|--------------------------------------------------|
# | redis-auth            | password              | Redis (requirepass, masterauth), its probes and  |
# |                       |                       | the cluster-create Job (REDISCLI_AUTH)           |
# |                       | slotplane-auth.conf   | `auth "…"`: slotplane-control and slotplane-proxy |
# |                       |                       | include it (the same password)                   |
# | slotplane-proxy-auth  | password              | the password clients give to AUTH                |
# |                       | proxy-auth.conf       | `requirepass "…"`, included by slotplane-proxy    |
# | slotplane-admin-token | token                 | slotplane-control's admin API, slotplane-proxy,  |
# |                       |                       | slotplanectl (--token-file)                      |
# | slotplane-proxy-token | token                 | the proxies' watch stream: slotplane-control     |
# |                       |                       | (proxy-token-file), slotplane-proxy              |
# |                       |                       | (control-plane-proxy-token-file)                 |
#
# Values are random (48 hex digits) unless given in REDIS_PASSWORD, PROXY_PASSWORD, ADMIN_TOKEN
# and PROXY_TOKEN. Existing Secrets are left alone; only missing ones are created, unless named
# with --rotate (redis-auth, slotplane-proxy-auth, slotplane-admin-token, slotplane-proxy-token),
# which replaces that Secret:
# follow README.md's rotation steps, which say when. --dry-run prints the manifests (values
# included) and contacts no cluster. NAMESPACE defaults to slotplane, the base's namespace.
set -euo pipefail

say() { printf 'secrets: %s\n' "$*" >&2; }
die() {
  printf 'secrets: error: %s\n' "$*" >&2
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-1}"
}

namespace=slotplane
dry_run=0
rotate=()
while (($#)); do
  case $1 in
    -n | --namespace)
      (($# >= 2)) || usage
      namespace=$2
      shift 2
      ;;
    --dry-run)
      dry_run=1
      shift
      ;;
    --rotate)
      (($# >= 2)) || usage
      case $2 in
        redis-auth | slotplane-proxy-auth | slotplane-admin-token | slotplane-proxy-token)
          rotate+=("$2")
          ;;
        *) die "--rotate takes redis-auth, slotplane-proxy-auth, slotplane-admin-token or slotplane-proxy-token, not '$2'" ;;
      esac
      shift 2
      ;;
    -h | --help) usage 0 ;;
    *) usage ;;
  esac
done

command -v kubectl >/dev/null 2>&1 || die "kubectl not found (scripts/bootstrap.sh installs it)"

random_value() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# conf_value VALUE: VALUE as one double-quoted proxy.conf argument.
conf_value() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

check_value() {
  local name=$1 value=$2
  [[ -n $value ]] || die "$name is empty"
  [[ $value != *[$'\n\r']* ]] || die "$name contains a line break"
}

workdir=$(mktemp -d "${TMPDIR:-/tmp}/slotplane-secrets.XXXXXX")
chmod 700 "$workdir"
trap 'rm -rf "$workdir"' EXIT

# secret_files NAME: writes NAME's keys as files into $workdir/NAME (one file per key).
secret_files() {
  local name=$1 dir=$workdir/$1 value
  mkdir -m 700 "$dir"
  case $name in
    redis-auth)
      value=${REDIS_PASSWORD:-$(random_value)}
      check_value REDIS_PASSWORD "$value"
      printf '%s' "$value" >"$dir/password"
      printf 'auth %s\n' "$(conf_value "$value")" >"$dir/slotplane-auth.conf"
      ;;
    slotplane-proxy-auth)
      value=${PROXY_PASSWORD:-$(random_value)}
      check_value PROXY_PASSWORD "$value"
      printf '%s' "$value" >"$dir/password"
      printf 'requirepass %s\n' "$(conf_value "$value")" >"$dir/proxy-auth.conf"
      ;;
    slotplane-admin-token)
      value=${ADMIN_TOKEN:-$(random_value)}
      check_value ADMIN_TOKEN "$value"
      printf '%s' "$value" >"$dir/token"
      ;;
    slotplane-proxy-token)
      value=${PROXY_TOKEN:-$(random_value)}
      check_value PROXY_TOKEN "$value"
      [[ $value != "${ADMIN_TOKEN:-}" ]] || die "PROXY_TOKEN must differ from ADMIN_TOKEN"
      printf '%s' "$value" >"$dir/token"
      ;;
  esac
}

manifest() {
  kubectl create secret generic "$1" --namespace "$namespace" --from-file="$workdir/$1" \
    --dry-run=client -o yaml
}

for name in redis-auth slotplane-proxy-auth slotplane-admin-token slotplane-proxy-token; do
  secret_files "$name"
  if ((dry_run)); then
    echo "---"
    manifest "$name"
    continue
  fi
  rotating=0
  for r in "${rotate[@]}"; do [[ $r == "$name" ]] && rotating=1; done
  if ((!rotating)) && kubectl get secret "$name" --namespace "$namespace" >/dev/null 2>&1; then
    say "$namespace/$name exists, kept (--rotate $name replaces it)"
    continue
  fi
  manifest "$name" | kubectl apply -f - >/dev/null
  if ((rotating)); then
    say "$namespace/$name replaced with a new value"
  else
    say "$namespace/$name created"
  fi
done
