#!/usr/bin/env bash
# Whole-run simulator figures: `gatelab sim` wall time, replay throughput and peak memory on
# generated TSV traces of growing length, for two configs:
#   rate-limit  one route, one per-client token bucket, fast backends (the policy core + metrics +
#               ground truth per request: the rate-limiting comparison's cost)
#   full        the same plus timeouts, retries with a budget, a circuit breaker, outlier
#               detection over 4 targets, 1% backend errors (every part of a request's life)
# Throughput = trace records / wall seconds of the whole command (reading and parsing the trace
# included). Peak memory = maximum resident set size. Results go to standard output and
# out/bench/replay-REORDER.txt; the figures in docs/performance.md come from here.
#
#   bench/replay.sh                 sizes 1M and 4M records, reorder window 10s (the default)
#   SIZES="250000 1000000" REORDER=0s REPEAT=5 bench/replay.sh
# REPEAT runs each command that many times (default 3) and reports the fastest run and the
# slowest: on a shared VM the spread is the noise, the fastest run the machine's capability.
# REORDER is the scenario's trace.reorder_window: the generated traces are sorted, so 0s is
# correct for them; 10s (the default for real logs) holds ~50,000 records in the reorder buffer.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bin="${GATELAB_BIN:-build-release/cli/gatelab}"
if [[ ! -x "$bin" ]]; then
  scripts/setup.sh --deps
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGATELAB_BUILD_TESTS=OFF >/dev/null
  cmake --build build-release --target gatelab -j "$(nproc)"
fi
timer=/usr/bin/time
if [[ ! -x "$timer" ]]; then
  echo "replay.sh: needs GNU time (/usr/bin/time, Debian package 'time')" >&2
  exit 1
fi
work="${GATELAB_BENCH_DIR:-out/bench/replay}"
mkdir -p "$work"
sizes="${SIZES:-1000000 4000000}"
reorder="${REORDER:-10s}"
repeat="${REPEAT:-3}"

# The same route and policy for both configs; `full` adds the resilience settings to the service.
gateway() {  # NAME TARGETS SERVICE_EXTRA
  cat > "$work/$1.gateway.yaml" <<YAML
version: 1
services:
  - name: app
    targets: [$2]
$3
routes:
  - name: all
    match: { path_prefix: / }
    service: app
    policies:
      - rate_limit: { name: per-client, algorithm: token_bucket, limit: 5/s, burst: 10, key: ip }
YAML
}
gateway rate-limit "http://10.0.0.1:80" ""
gateway full "http://10.0.0.1:80, http://10.0.0.2:80, http://10.0.0.3:80, http://10.0.0.4:80" \
"    load_balancer: least_request
    timeouts: { per_try: 250ms, overall: 1s }
    retries:
      attempts: 2
      on: [connect-failure, gateway-error, timeout]
      backoff: { base: 10ms, max: 100ms }
      budget: { percent: 20%, min_concurrency: 3 }
    circuit_breaker: { failure_rate: 50%, window: 100, minimum_calls: 20, open_for: 5s }
    outlier_detection: { consecutive_5xx: 5, base_ejection_time: 10s, max_ejection_percent: 25% }"

scenario() {  # NAME TRACE
  local name=$1 trace=$2 extra=""
  if [[ $name == full ]]; then
    extra="    errors: 1%"
  fi
  cat > "$work/$name.yaml" <<YAML
version: 1
name: bench-$name
gateway: $name.gateway.yaml
trace: {file: $(basename "$trace"), format: tsv, reorder_window: $reorder}
backends:
  app:
    servers: 64
    service_time: {distribution: lognormal, median: 5ms, p99: 50ms}
$extra
timeline: {bucket: 1s}
YAML
}

report="$work/../replay-$reorder.txt"
{
  echo "# bench/replay.sh, reorder window $reorder, on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(date -u +%Y-%m-%d)"
  printf '%-11s %10s %9s %9s %12s %12s\n' config records best_s worst_s best_rec/s peak_rss_MB
} | tee "$report"
for n in $sizes; do
  trace="$work/trace-$n.tsv"
  if [[ ! -f "$trace" ]]; then
    "$bin" trace gen --format tsv --rate 5000/s --clients 20000 --count "$n" --seed 1 --quiet --out "$trace"
  fi
  for config in rate-limit full; do
    scenario "$config" "$trace"
    best="" worst="" rss=0
    for ((k = 0; k < repeat; k++)); do
      out=$("$timer" -f '%e %M' "$bin" sim "$work/$config.yaml" --quiet 2>&1 >/dev/null | tail -1)
      wall=${out% *}
      best=$(awk -v a="$best" -v b="$wall" 'BEGIN { print (a == "" || b < a) ? b : a }')
      worst=$(awk -v a="$worst" -v b="$wall" 'BEGIN { print (a == "" || b > a) ? b : a }')
      rss=$(( ${out#* } > rss ? ${out#* } : rss ))
    done
    awk -v c="$config" -v n="$n" -v b="$best" -v w="$worst" -v r="$rss" \
      'BEGIN { printf "%-11s %10d %9.2f %9.2f %12.0f %12.1f\n", c, n, b, w, (b > 0 ? n / b : 0), r / 1024 }' | tee -a "$report"
  done
done
