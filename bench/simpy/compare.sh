#!/usr/bin/env bash
# Runs the same M/M/c model on gatelab's engine (bench/mmc_engine, Release) and in SimPy 2
# (Debian's python3-simpy) and prints both results and the speed ratio (docs/performance.md).
# usage: bench/simpy/compare.sh [LAMBDA MU C CUSTOMERS]   (default: 640 100 8 1000000, rho = 0.8)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$here"
lambda=${1:-640} mu=${2:-100} c=${3:-8} customers=${4:-1000000}
if ! /usr/bin/python3 -c 'import SimPy.Simulation' 2>/dev/null; then
  echo "installing python3-simpy" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-simpy >/dev/null
fi
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGATELAB_BUILD_TESTS=OFF >/dev/null
cmake --build build-release --target mmc_engine >/dev/null
engine=$(build-release/bench/mmc_engine "$lambda" "$mu" "$c" "$customers")
simpy=$(/usr/bin/python3 bench/simpy/mmc_simpy.py "$lambda" "$mu" "$c" "$customers")
echo "$engine"
echo "$simpy"
/usr/bin/python3 - "$engine" "$simpy" <<'PY'
import json, sys
e, s = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"speed ratio (gatelab / SimPy, customers per second): {e['customers_per_s'] / s['customers_per_s']:.0f}x")
for r in (e, s):
    err = (r['mean_wait_s'] - r['erlang_c_wait_s']) / r['erlang_c_wait_s'] * 100
    print(f"{r['tool']}: mean wait {r['mean_wait_s']*1000:.4f} ms vs Erlang C {r['erlang_c_wait_s']*1000:.4f} ms ({err:+.2f}%)")
PY
