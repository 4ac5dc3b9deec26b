#!/usr/bin/env bash
# Instructions per proxied request: gatelab's user-space work for one request, counted by
# valgrind's callgrind, which unlike wall time or CPU time does not move with the machine's other
# load (a shared VM's requests/s swing by tens of percent between runs). The gateway runs under
# callgrind twice against an nginx upstream answering from memory: once with no requests, once with
# wrk on 8 keep-alive connections for SECONDS; the difference in instructions over the number of
# requests is the per-request figure (start-up and shutdown cancel out).
#
#   bench/proxy_instructions.sh              plain: route everything to the upstream
#   CASE=rate-limit bench/proxy_instructions.sh   plus a per-IP token bucket that never rejects
#   CASE=redis bench/proxy_instructions.sh        the same bucket with store: redis (a local
#                                                 redis-server; its own work is not counted)
#   SECONDS_RUN=8 GATELAB_BIN=build-release/cli/gatelab bench/proxy_instructions.sh
# Needs valgrind, wrk and nginx (Debian packages), and redis-server for CASE=redis. Figures: docs/performance.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bin="${GATELAB_BIN:-build-release/cli/gatelab}"
seconds="${SECONDS_RUN:-8}"
case_name="${CASE:-plain}"
tools="valgrind wrk nginx"
if [[ $case_name == redis ]]; then tools="$tools redis-server"; fi
for tool in $tools; do
  if ! command -v "$tool" >/dev/null && [[ ! -x /usr/sbin/$tool ]]; then
    echo "proxy_instructions.sh: needs $tool (apt-get install valgrind wrk nginx redis-server)" >&2
    exit 1
  fi
done
if [[ ! -x "$bin" ]]; then
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGATELAB_BUILD_TESTS=OFF >/dev/null
  cmake --build build-release --target gatelab -j "$(nproc)"
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
work="$here/out/bench/proxy-instructions"
mkdir -p "$work/logs"
up_port=19180 gl_port=19182 gl_admin=19183

# shellcheck source=bench/proxy_common.sh
source "$here/bench/proxy_common.sh"
proxy_bench_upstream_conf "$work/upstream.conf" "$work" "$up_port"
redis_port=19184
case $case_name in
  plain) proxy_bench_gatelab_config "$work/gateway.yaml" "$gl_port" "$gl_admin" "$up_port" "" ;;
  rate-limit) proxy_bench_gatelab_config "$work/gateway.yaml" "$gl_port" "$gl_admin" "$up_port" "$PROXY_BENCH_RATE_LIMIT" ;;
  redis)
    proxy_bench_gatelab_config "$work/gateway.yaml" "$gl_port" "$gl_admin" "$up_port" "$PROXY_BENCH_REDIS_LIMIT" \
      "$(proxy_bench_redis_config "$redis_port")"
    ;;
  *)
    echo "proxy_instructions.sh: CASE is plain, rate-limit or redis" >&2
    exit 2
    ;;
esac

"$nginx_bin" -p "$work" -c "$work/upstream.conf" -g 'daemon off;' &
up=$!
redis_pid=""
if [[ $case_name == redis ]]; then
  redis-server --port $redis_port --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$work/logs/redis.log" 2>&1 &
  redis_pid=$!
fi
trap 'kill $up $redis_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
if [[ -n $redis_pid ]]; then proxy_bench_wait_port $redis_port; fi

run() {  # SECONDS -> "requests instructions"
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.$1" "$bin" serve "$work/gateway.yaml" --threads 1 \
    2>"$work/logs/callgrind.$1.err" &
  local gp=$! n=0
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "http://127.0.0.1:$gl_admin/healthz" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if [[ $1 -gt 0 ]]; then n=$(wrk -t1 -c8 -d"${1}s" "http://127.0.0.1:$gl_port/" | awk '/requests in/ {print $1}'); fi
  kill -TERM $gp
  wait $gp 2>/dev/null || true
  echo "$n $(awk '/^(summary|totals):/ {print $2; exit}' "$work/callgrind.$1")"
}
read -r _ idle < <(run 0)
read -r requests busy < <(run "$seconds")
echo "$case_name: $requests requests; $(awk -v a="$idle" -v b="$busy" -v n="$requests" 'BEGIN { printf "%.0f", (b - a) / n }') instructions per request ($bin)"
