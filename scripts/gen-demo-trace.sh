#!/usr/bin/env bash
# Regenerates the bundled demo trace traces/demo.log.gz from traces/demo-spec.yaml (which fixes
# the seed), with the built `gatelab` binary. The trace is generated: never hand-edit it; change
# the spec and run this script. tests/sim/workload (WorkloadDemoTrace) fails if the committed
# trace and the generator ever disagree.
#
#   scripts/gen-demo-trace.sh [GATELAB_BINARY] [OUTPUT]
#
# GATELAB_BINARY defaults to build/cli/gatelab; OUTPUT to traces/demo.log.gz (a name ending in
# .gz is gzip-compressed; any other name is written plain).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$here/build/cli/gatelab}"
out="${2:-$here/traces/demo.log.gz}"
if [[ ! -x "$bin" ]]; then
  echo "gen-demo-trace: no gatelab binary at $bin (build it first, or pass its path)" >&2
  exit 2
fi
# Every workload setting, the seed included, lives in the spec; only the output is chosen here.
# gzip level 9: the smallest file; the decompressed text is what the test compares.
exec "$bin" trace gen --spec "$here/traces/demo-spec.yaml" --format combined --gzip-level 9 --out "$out"
