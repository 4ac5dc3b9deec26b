#!/usr/bin/env bash
# gatelab vs nginx as reverse proxies, in one run on one machine: the same upstream (an nginx
# answering a fixed 200 "ok" from memory), the same number of worker threads/processes, wrk as the
# client with keep-alive connections. Three cases per proxy:
#   plain       route everything to the upstream over pooled keep-alive connections
#   rate-limit  the same plus a per-client-IP limit high enough never to reject (the limiter's cost
#               on every request): gatelab token_bucket 10^6/s, nginx limit_req 10^6 r/s + burst
#   redis       gatelab only (nginx has no shared-store limiter): the rate-limit case with
#               `store: redis`, against a local redis-server (one EVALSHA per request, pipelined);
#               redis-server's own CPU per request over the same run is printed after it (it
#               shares the cores)
# Requests/s, wrk's latency percentiles (p50, p99) and the proxy's CPU time per request (user and
# system microseconds, from /proc; nginx: master and workers) go to standard output and
# out/bench/proxy.txt; the figures in docs/performance.md come from here.
#
#   bench/proxy.sh                                  1 proxy thread, 32 connections, 10 s per case
#   THREADS=2 CONNECTIONS=64 DURATION=20 bench/proxy.sh
#   ROUNDS=5 DURATION=4 bench/proxy.sh              every case 5 times, in turn (nginx, then gatelab,
#                                                   seconds apart), then medians and per-round ratios
# A shared VM's speed drifts by 10-20% over minutes; ROUNDS compares each gatelab run with the
# nginx run just before it, so the drift falls on both, and reports the median of those ratios.
# Needs wrk, nginx and redis-server (Debian packages); installs them with apt when missing and root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
threads="${THREADS:-1}"
connections="${CONNECTIONS:-32}"
duration="${DURATION:-10}"
rounds="${ROUNDS:-1}"
bin="${GATELAB_BIN:-build-release/cli/gatelab}"
if [[ ! -x "$bin" ]]; then
  scripts/setup.sh --deps
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGATELAB_BUILD_TESTS=OFF >/dev/null
  cmake --build build-release --target gatelab -j "$(nproc)"
fi
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null || ! command -v redis-server >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get install -y -qq --no-install-recommends wrk nginx redis-server >/dev/null
  else
    echo "proxy.sh: needs wrk, nginx and redis-server (apt-get install wrk nginx redis-server)" >&2
    exit 1
  fi
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
work="$here/out/bench/proxy"
mkdir -p "$work/logs"
up_port=19080 nginx_port=19081 gl_port=19082 gl_admin=19083 redis_port=19084

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck source=bench/proxy_common.sh
source "$here/bench/proxy_common.sh"
proxy_bench_upstream_conf "$work/upstream.conf" "$work" "$up_port"
"$nginx_bin" -p "$work" -c "$work/upstream.conf" -g 'daemon off;' &
pids+=($!)

nginx_proxy() {  # NAME EXTRA_HTTP EXTRA_LOCATION
  cat > "$work/$1.conf" <<CONF
worker_processes $threads;
error_log $work/logs/$1.err warn;
pid $work/$1.pid;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:$up_port; keepalive 64; keepalive_requests 1000000; }
  $2
  server {
    listen 127.0.0.1:$nginx_port;
    keepalive_requests 1000000;
    location / {
      $3
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
}

gatelab_config() {  # NAME POLICY_LINES [TOP_LEVEL_LINES]
  proxy_bench_gatelab_config "$work/$1.yaml" "$gl_port" "$gl_admin" "$up_port" "$2" "${3:-}"
}

# CPU time (user and system clock ticks) of the given processes, summed: "utime stime".
cpu_ticks() {  # PID...
  local u=0 s=0 pid
  for pid in "$@"; do
    read -r pu ps < <(awk '{print $14, $15}' "/proc/$pid/stat")
    u=$((u + pu)) s=$((s + ps))
  done
  echo "$u $s"
}

# wrk's output -> "requests/s p50 p99 user_us sys_us" (latencies in ms; the proxy processes' CPU
# microseconds per request, user and system, from /proc: steadier than requests/s on a shared VM)
measure() {  # PORT PID...
  local out port=$1
  shift
  local u0 s0 u1 s1 hz
  hz=$(getconf CLK_TCK)
  read -r u0 s0 < <(cpu_ticks "$@")
  out=$(wrk -t1 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$port/" 2>&1)
  read -r u1 s1 < <(cpu_ticks "$@")
  if grep -q "Non-2xx" <<<"$out"; then
    echo "proxy.sh: non-2xx answers during the run:" >&2
    echo "$out" >&2
  fi
  awk -v u0="$u0" -v u1="$u1" -v s0="$s0" -v s1="$s1" -v hz="$hz" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /requests in/ { n = $1 }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.3f %.3f %.2f %.2f %d\n", rps, p50, p99, (u1 - u0) * 1e6 / hz / n, (s1 - s0) * 1e6 / hz / n, n }' <<<"$out"
}

proxy_bench_wait_port $up_port
report="$work/../proxy.txt"
{
  echo "# bench/proxy.sh: $threads proxy thread(s)/worker(s), wrk 1 thread $connections connections ${duration}s, on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(date -u +%Y-%m-%d)"
  printf '%-10s %-11s %12s %10s %10s %9s %9s\n' proxy case requests/s p50_ms p99_ms user_us sys_us
} | tee "$report"

run_gatelab() {  # CASE GATELAB_POLICY [TOP_LEVEL_LINES] [STORE_PID]
  gatelab_config "gatelab-$1" "$2" "${3:-}"
  "$bin" serve "$work/gatelab-$1.yaml" --threads "$threads" 2>"$work/logs/gatelab-$1.err" &
  local gp=$!
  proxy_bench_wait_port $gl_port
  wrk -t1 -c"$connections" -d1s "http://127.0.0.1:$gl_port/" >/dev/null 2>&1
  local su0=0 ss0=0 su1=0 ss1=0
  if [[ -n ${4:-} ]]; then read -r su0 ss0 < <(cpu_ticks "$4"); fi
  read -r rps p50 p99 cu cs n < <(measure $gl_port $gp)
  printf '%-10s %-11s %12s %10s %10s %9s %9s\n' gatelab "$1" "$rps" "$p50" "$p99" "$cu" "$cs" | tee -a "$report"
  if [[ -n ${4:-} ]]; then  # the store's own CPU per request over the same run (it shares the cores)
    read -r su1 ss1 < <(cpu_ticks "$4")
    awk -v u="$((su1 - su0))" -v s="$((ss1 - ss0))" -v hz="$(getconf CLK_TCK)" -v n="$n" \
      'BEGIN { printf "# redis-server during the %s case: %.2f user us, %.2f system us per request\n", "'"$1"'", u * 1e6 / hz / n, s * 1e6 / hz / n }' |
      tee -a "$report"
  fi
  kill -TERM $gp; wait $gp 2>/dev/null || true
}

run_case() {  # CASE NGINX_HTTP NGINX_LOCATION GATELAB_POLICY
  nginx_proxy "nginx-$1" "$2" "$3"
  "$nginx_bin" -p "$work" -c "$work/nginx-$1.conf" -g 'daemon off;' &
  local np=$!
  proxy_bench_wait_port $nginx_port
  wrk -t1 -c"$connections" -d1s "http://127.0.0.1:$nginx_port/" >/dev/null 2>&1  # warm-up
  read -r rps p50 p99 cu cs _ < <(measure $nginx_port $np $(pgrep -P $np))
  printf '%-10s %-11s %12s %10s %10s %9s %9s\n' nginx "$1" "$rps" "$p50" "$p99" "$cu" "$cs" | tee -a "$report"
  kill $np; wait $np 2>/dev/null || true
  run_gatelab "$1" "$4"
}

redis-server --port $redis_port --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  >"$work/logs/redis.log" 2>&1 &
redis_pid=$!
pids+=($redis_pid)
proxy_bench_wait_port $redis_port  # (idle during the other cases)

for ((round = 1; round <= rounds; round++)); do
  if [[ $rounds -gt 1 ]]; then echo "# round $round of $rounds" | tee -a "$report"; fi
  run_case plain "" "" ""
  run_case rate-limit \
    "limit_req_zone \$binary_remote_addr zone=perip:10m rate=1000000r/s;" \
    "limit_req zone=perip burst=1000000 nodelay;" \
    "$PROXY_BENCH_RATE_LIMIT"
  run_gatelab redis "$PROXY_BENCH_REDIS_LIMIT" "$(proxy_bench_redis_config "$redis_port")" "$redis_pid"
done

# With several rounds: per case the median requests/s and p99 of each proxy, and the ratios of each
# round (gatelab / the nginx run just before it; the Redis store / that round's local store).
if [[ $rounds -gt 1 ]]; then
  awk '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    /^# round / { r = $3 }
    $1 == "nginx" || $1 == "gatelab" { rps[$1, $2, r] = $3; p99[$1, $2, r] = $5; seen[$1, $2] = 1 }
    END {
      print "# medians over " r " rounds: requests/s (p99 ms); ratios per round, then their median"
      split("plain rate-limit", cases, " ")
      for (c = 1; c <= 2; c++) {
        k = cases[c]; nr = ""; gr = ""; np = ""; gp = ""; ratios = ""; better = 0
        for (i = 1; i <= r; i++) {
          nr = nr " " rps["nginx", k, i]; gr = gr " " rps["gatelab", k, i]
          np = np " " p99["nginx", k, i]; gp = gp " " p99["gatelab", k, i]
          q = rps["gatelab", k, i] / rps["nginx", k, i]; ratios = ratios sprintf(" %.3f", q)
          if (p99["gatelab", k, i] + 0 <= p99["nginx", k, i] + 0) better++
        }
        printf "# %-10s nginx %.0f (%.3f)  gatelab %.0f (%.3f)  gatelab/nginx:%s  median %.3f  p99 no worse in %d of %d\n",
          k, median(nr), median(np), median(gr), median(gp), ratios, median(ratios), better, r
      }
      ratios = ""
      for (i = 1; i <= r; i++) ratios = ratios sprintf(" %.3f", rps["gatelab", "redis", i] / rps["gatelab", "rate-limit", i])
      printf "# %-10s redis / local store:%s  median %.3f\n", "redis", ratios, median(ratios)
    }' "$report" | tee -a "$report.summary"
  cat "$report.summary" >> "$report"
  rm -f "$report.summary"
fi
