#!/usr/bin/env bash
# Sets everything up, then runs gatelab's main job: validate the bundled example config and show
# how several rate-limiting algorithms decide on the same synthetic burst.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/setup.sh
bin="${GATELAB_BUILD_DIR:-build}/cli/gatelab"
echo
echo "\$ gatelab validate examples/gateway.yaml"
"$bin" validate examples/gateway.yaml
echo
echo "\$ gatelab demo"
"$bin" demo
