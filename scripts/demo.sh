#!/usr/bin/env bash
# Sets everything up, then runs gatelab's main job: replay the bundled demo trace
# (traces/demo.log.gz) through one per-client rate limit with each algorithm and compare them
# (scenarios/compare-limiters.yaml) and print the comparison.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/setup.sh
bin="${GATELAB_BUILD_DIR:-build}/cli/gatelab"
echo
echo "\$ gatelab demo    # = gatelab compare scenarios/compare-limiters.yaml"
"$bin" demo
