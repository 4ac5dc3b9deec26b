# Shared by bench/proxy.sh and bench/proxy_instructions.sh (sourced, not run): the upstream they
# proxy to, the gatelab config they measure, and the policies of their cases, so both scripts
# measure the same thing.

# The rate-limit cases' policy: a per-client-IP token bucket high enough never to reject.
PROXY_BENCH_RATE_LIMIT="    policies:
      - rate_limit: { name: per-ip, algorithm: token_bucket, limit: 1000000/s, burst: 1000000, key: ip }"
# The same with its state in Redis (store: redis); needs proxy_bench_redis_config.
PROXY_BENCH_REDIS_LIMIT="    policies:
      - rate_limit: { name: per-ip, algorithm: token_bucket, limit: 1000000/s, burst: 1000000, key: ip, store: redis }"

proxy_bench_redis_config() {  # REDIS_PORT -> the top-level lines of the Redis cases
  echo "redis: { address: 127.0.0.1:$1 }"
}

# The upstream: one nginx worker answering 200 "ok" from memory on keep-alive connections.
proxy_bench_upstream_conf() {  # FILE WORK_DIR PORT
  cat > "$1" <<CONF
worker_processes 1;
error_log $2/logs/upstream.err warn;
pid $2/upstream.pid;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$3;
    keepalive_requests 1000000;
    location / { return 200 "ok\n"; }
  }
}
CONF
}

# gatelab routing everything to that upstream, with the case's policy lines and top-level lines.
proxy_bench_gatelab_config() {  # FILE LISTEN_PORT ADMIN_PORT UPSTREAM_PORT POLICY_LINES [TOP_LEVEL_LINES]
  cat > "$1" <<YAML
version: 1
listen: 127.0.0.1:$2
admin: 127.0.0.1:$3
${6:-}
services:
  - name: upstream
    targets: [http://127.0.0.1:$4]
routes:
  - name: all
    match: { path_prefix: / }
    service: upstream
$5
YAML
}

proxy_bench_wait_port() {  # PORT: until something listens on 127.0.0.1:PORT (5 s at most)
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "$(basename "$0"): nothing listens on port $1" >&2
  return 1
}
