#!/usr/bin/env bash
# Sets everything up, builds, and runs the whole test suite with CTest.
# Extra arguments go to ctest (e.g. scripts/test.sh -R Router, or -L heavy).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/setup.sh
build_dir="${GATELAB_BUILD_DIR:-build}"
ctest --test-dir "$build_dir" --output-on-failure -j "${GATELAB_JOBS:-$(nproc)}" --timeout 600 "$@"
