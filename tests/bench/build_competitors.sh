#!/usr/bin/env bash
# Builds the proxies slotplane is compared with (predixy, redis-cluster-proxy) from local git
# clones, with Debian's make and gcc, outside the repository's tracked files. See README.md.
#
#   tests/bench/build_competitors.sh [GIT_DIR...]
#   PREDIXY_GIT=/path/predixy.git RCP_GIT=/path/rcp.git tests/bench/build_competitors.sh
#
# Each GIT_DIR is a clone (a bare one or a .git directory: no work tree needed); which proxy it
# holds is recognized from its files. The tree of COMPETITOR_REV (default HEAD) is exported
# with `git archive` into $COMPETITORS_DIR/src/NAME (default .run/competitors/, git-ignored),
# built there, and the binary copied to $COMPETITORS_DIR/bin/NAME with NAME.commit beside it.
# Nothing of their code is kept in this repository: only the compiler flags of make_flags().
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$here/../.." && pwd)
out_dir=${COMPETITORS_DIR:-$root/.run/competitors}
rev=${COMPETITOR_REV:-HEAD}
jobs=${COMPETITOR_JOBS:-2}
build_timeout=${COMPETITOR_BUILD_TIMEOUT:-1800}

log() { printf '[build_competitors] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Environment: PREDIXY_GIT, RCP_GIT (git dirs, used when no argument names that proxy),
COMPETITORS_DIR (.run/competitors), COMPETITOR_REV (HEAD), COMPETITOR_JOBS (2),
COMPETITOR_BUILD_TIMEOUT (seconds per build, 1800), COMPETITOR_FORCE=1 (rebuild even when
the binary of that commit is there).
EOF
}

# kind_of GIT_DIR : prints predixy or redis-cluster-proxy, from the files at $rev.
kind_of() {
  local git=$1
  if git --git-dir="$git" cat-file -e "$rev:src/Proxy.cpp" 2>/dev/null; then
    echo predixy
  elif git --git-dir="$git" cat-file -e "$rev:src/proxy.c" 2>/dev/null &&
    git --git-dir="$git" cat-file -e "$rev:deps/hiredis" 2>/dev/null; then
    echo redis-cluster-proxy
  else
    return 1
  fi
}

# make_flags NAME : the make variables each one needs with gcc 12 (Debian bookworm).
#  predixy: String.h calls localtime_r/strftime without including <ctime>, which older
#    libstdc++ headers pulled in transitively; -include ctime supplies it (LVL holds their -O3 -g).
#  redis-cluster-proxy: sds.h defines (not declares) SDS_NOINIT in every object; gcc >= 10
#    defaults to -fno-common, which makes that a multiple-definition link error.
make_flags() {
  case $1 in
    predixy) printf '%s\n' "LVL=-g -O3 -include ctime" ;;
    redis-cluster-proxy) printf '%s\n' "CFLAGS=-fcommon" ;;
  esac
}

# binary_in NAME SRC : where its build leaves the binary.
binary_in() {
  case $1 in
    predixy) echo "$2/src/predixy" ;;
    redis-cluster-proxy) echo "$2/src/redis-cluster-proxy" ;;
  esac
}

build_one() {
  local name=$1 git=$2 commit src bin flags=()
  commit=$(git --git-dir="$git" rev-parse --verify "$rev^{commit}") ||
    die "$git has no commit $rev"
  if [[ -z ${COMPETITOR_FORCE:-} && -x $out_dir/bin/$name &&
    $(cat "$out_dir/bin/$name.commit" 2>/dev/null) == "$commit" ]]; then
    log "$name ${commit:0:12}: already built"
    return 0
  fi
  src=$out_dir/src/$name
  log "$name ${commit:0:12}: exporting $git into ${src#"$root"/}"
  rm -rf -- "$src"
  mkdir -p -- "$src" "$out_dir/bin"
  git --git-dir="$git" archive --format=tar "$commit" | tar -x -C "$src"
  mapfile -t flags < <(make_flags "$name")
  log "$name: make -j$jobs ${flags[*]} (log: ${src#"$root"/}.build.log)"
  if ! timeout -k 10 "$build_timeout" nice make -C "$src" -j"$jobs" "${flags[@]}" \
    >"$src.build.log" 2>&1; then
    tail -n 30 "$src.build.log" >&2
    die "$name did not build; see $src.build.log"
  fi
  bin=$(binary_in "$name" "$src")
  [[ -x $bin ]] || die "$name: the build left no binary at $bin"
  cp -f -- "$bin" "$out_dir/bin/$name"
  printf '%s\n' "$commit" >"$out_dir/bin/$name.commit"
}

case ${1:-} in
  -h | --help) usage; exit 0 ;;
esac
command -v git >/dev/null || die "git not found"
command -v make >/dev/null || die "make not found (apt-get install make)"
command -v g++ >/dev/null || die "g++ not found (apt-get install g++)"

declare -A git_of=()
for git in "$@"; do
  [[ -d $git ]] || die "not a directory: $git"
  kind=$(kind_of "$git") || die "$git holds neither predixy nor redis-cluster-proxy (at $rev)"
  git_of[$kind]=$git
done
[[ -n ${git_of[predixy]:-} || -z ${PREDIXY_GIT:-} ]] || git_of[predixy]=$PREDIXY_GIT
[[ -n ${git_of[redis-cluster-proxy]:-} || -z ${RCP_GIT:-} ]] || git_of[redis-cluster-proxy]=$RCP_GIT
((${#git_of[@]})) || {
  usage >&2
  die "no git dir given (arguments, PREDIXY_GIT or RCP_GIT)"
}

for name in predixy redis-cluster-proxy; do
  [[ -n ${git_of[$name]:-} ]] || continue
  build_one "$name" "${git_of[$name]}"
done
for name in predixy redis-cluster-proxy; do
  [[ -x $out_dir/bin/$name ]] && printf '%s\n' "$out_dir/bin/$name"
done
exit 0
