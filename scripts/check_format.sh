#!/usr/bin/env bash
# Fails when a C++ file tracked by git differs from what clang-format (.clang-format) makes of it,
# or when shellcheck finds a problem in a shell script.
#   scripts/check_format.sh        check
#   scripts/check_format.sh --fix  reformat C++ in place
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
command -v clang-format >/dev/null || { echo "check_format: clang-format not found" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.h' '*.cc' | grep -v '\.inc$')
if [[ ${1:-} == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  if ! diff -q <(clang-format "$f") "$f" >/dev/null; then bad+=("$f"); fi
done
if ((${#bad[@]})); then
  printf 'check_format: these files need clang-format (scripts/check_format.sh --fix):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check_format: ${#files[@]} C++ files clean"
if command -v shellcheck >/dev/null; then
  mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
  shellcheck -x "${scripts[@]}"
  echo "check_format: ${#scripts[@]} shell scripts clean"
fi
