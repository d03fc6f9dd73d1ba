#!/usr/bin/env bash
# The client matrix (README.md): installs the npm client libraries (install.sh), then runs
# run.py, which starts its own servers and runs every client of the matrix in every protocol.
#
#   tests/clients/run.sh [run.py options, e.g. --proxy build/bin/slotplane-proxy --only redis-cli/3]
#
# Exit code: install.sh's when it cannot install (77 outside CI: skipped), else run.py's.
set -euo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
"$here/install.sh" || exit $?
exec python3 "$here/run.py" "$@"
