#!/usr/bin/env bash
# Builds the benchmarks in Release (build-release/) and runs them; results also go to
# out/bench/*.json for docs/performance.md. Extra arguments go to every benchmark binary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
scripts/setup.sh --deps
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGATELAB_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j "$(nproc)"
mkdir -p out/bench
for b in build-release/bench/*_bench; do
  name=$(basename "$b")
  echo "== $name"
  "$b" --benchmark_out="out/bench/$name.json" --benchmark_out_format=json "$@"
done
