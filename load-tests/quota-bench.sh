#!/usr/bin/env bash
# Added latency of the quota stage (issue 6): the same request through three Portcullis instances that differ only in
# the quota stage — off (portcullis.quota.enabled=false, allowed under the bench profile only), local buckets, Redis
# buckets (a Lua token bucket over Lettuce) — in the same run, modes interleaved per repeat so load drift on a shared
# box hits all three alike; medians reported. Also the Redis round trips per request: from INFO commandstats before and
# after each run (one per script call, see redis_total), divided by the requests wrk counted.
# Builds with `package` (no install: the shared ~/.m2 stays untouched).
# Usage: load-tests/quota-bench.sh [DURATION_S=15] [REPEATS=3] [CONNECTIONS=32]     (~4 minutes with the defaults on an
#        idle box; start-up alone took 5 minutes at load 15). QUOTA_BENCH_MODES="redis" runs a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}; REPEATS=${2:-3}; CONNS=${3:-32}; WARMUP=${WARMUP:-10}
UP=18181
declare -A PORT=( [off]=18184 [local]=18186 [redis]=18188 )
read -r -a MODES <<< "${QUOTA_BENCH_MODES:-off local redis}"   # e.g. QUOTA_BENCH_MODES=redis for Redis only
WORK=$(mktemp -d /tmp/portcullis-quota-bench.XXXXXX)
PIDS=()
source load-tests/lib.sh
trap cleanup EXIT
require wrk nginx taskset curl java redis-server redis-cli

echo "== build (package, no install)"
build_gateway

echo "== upstream (nginx static page)"
start_upstream $UP

echo "== redis-server on a random port"
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c $SERVER_CPU redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  > "$WORK/redis.log" 2>&1 & PIDS+=($!)

write_load_config $UP

echo "== three Portcullis instances, started one after another on any core, then pinned with their PostgreSQL to CPU $SERVER_CPU"
# (on a busy shared box the embedded PostgreSQL misses the default 2 s connection-acquire timeout during start-up,
# hence 10 s, the same for all three)
declare -A EXTRA=( [off]="--portcullis.quota.enabled=false" [local]="" \
                   [redis]="--portcullis.quota.redis-uri=redis://127.0.0.1:$REDIS_PORT --portcullis.quota.redis-timeout=1s" )
# (1 s rather than the 250 ms default: on a shared, overloaded core a healthy Redis call can stall past 250 ms, and a
# replica in local fallback would measure the wrong thing; fallback during the runs is counted and reported below)
wait_for() {  # url log pid
  for _ in $(seq 1 180); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$3" 2>/dev/null || { echo "exited: $2"; grep -m3 'Caused by' "$2" | cut -c1-400; exit 1; }
    sleep 1
  done
  echo "timeout: $1"; tail -30 "$2"; exit 1
}
for m in "${MODES[@]}"; do
  # shellcheck disable=SC2086
  java -Xms1g -Xmx1g -jar "$GW_JAR" --server.port=${PORT[$m]} \
    --portcullis.admin.port=$(( ${PORT[$m]} + 1 )) --portcullis.demo.enabled=false \
    --portcullis.database.data-dir="$WORK/pgdata-$m" --portcullis.policy.config-file="$WORK/portcullis.yaml" \
    --portcullis.audit.spill-dir="$WORK/spill-$m" --portcullis.audit.chain-id="quota-bench-$m" \
    --portcullis.broker.key-encryption-key="$KEK" --spring.profiles.active=bench \
    --portcullis.database.acquire-timeout=10s \
    ${EXTRA[$m]} > "$WORK/portcullis-$m.log" 2>&1 & PIDS+=($!)
  wait_for "http://127.0.0.1:${PORT[$m]}/.well-known/jwks.json" "$WORK/portcullis-$m.log" "${PIDS[-1]}"
  taskset -a -p -c $SERVER_CPU "${PIDS[-1]}" >/dev/null
done
for p in $(pgrep -f "$WORK/pgdata"); do taskset -a -p -c $SERVER_CPU "$p" >/dev/null; done
declare -A TOKEN
for m in "${MODES[@]}"; do
  TOKEN[$m]=$(curl -s -u "load-app:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:${PORT[$m]}/oauth2/token" \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  for attempt in $(seq 1 20); do   # a cold Redis path may time out once and fall back; the probe returns within 1 s
    headers=$(curl -s -D - -o "$WORK/check-$m.json" -H "Authorization: Bearer ${TOKEN[$m]}" \
      "http://127.0.0.1:${PORT[$m]}/crm/contacts")
    if [ "$m" = off ]; then
      echo "$headers" | grep -qi '^RateLimit-Limit' && { echo "quota off still set RateLimit headers"; exit 1; }
      break
    fi
    # the full limit: local buckets, or Redis not in fallback (a replica in fallback reports its 1/2 share)
    echo "$headers" | grep -qi '^RateLimit-Limit: 1000000' && break
    [ "$attempt" = 20 ] && { echo "$m: RateLimit-Limit is not the full 1000000: $(echo "$headers" | grep -i ratelimit)"; exit 1; }
    sleep 1
  done
  grep -q '"team-ops"' "$WORK/check-$m.json" || { echo "$m did not answer rows: $(head -c 300 "$WORK/check-$m.json")"; exit 1; }
done
fallbacks() { grep -c "Redis at .* unreachable" "$WORK/portcullis-redis.log" || true; }   # not "upstream unreachable"
FALLBACKS_BEFORE=$(fallbacks)

redis_calls() { redis-cli -p "$REDIS_PORT" INFO commandstats | sed -nE 's/^cmdstat_([a-z|]+):calls=([0-9]+).*/\1 \2/p'; }
# Round trips, not commands: commandstats also counts the commands a Lua script runs inside Redis (the bucket script's
# time, get and set). The gateway's one request-path command is the bucket script's EVALSHA (EVAL once after a Redis
# restart), for one bucket or two; no client GET/SET, so every other row of the breakdown printed below is in-script.
# (Up to 0a7b2dd, bucket4j's CAS backend: one client GET then one EVAL per bucket operation, counted 2 per EVAL.)
redis_total() { redis_calls | awk '$1 == "eval" || $1 == "evalsha" {s+=$2} END {print s+0}'; }
# Redis CPU (user + sys, µs): what the shared Redis spends on the quota stage per request
redis_cpu_us() { redis-cli -p "$REDIS_PORT" INFO cpu | sed -nE 's/^used_cpu_(sys|user):([0-9.]+).*/\2/p' \
  | awk '{s += $1} END {printf "%d", s * 1000000}'; }

for m in "${MODES[@]}"; do
  echo "== $m: warm-up ${WARMUP}s"
  taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "Authorization: Bearer ${TOKEN[$m]}" \
    "http://127.0.0.1:${PORT[$m]}/crm/contacts" >/dev/null
  : > "$WORK/$m.runs"
done
: > "$WORK/redis.calls"
for r in $(seq 1 "$REPEATS"); do
  for m in "${MODES[@]}"; do
    before=$(redis_total); cpu_before=$(redis_cpu_us)
    line=$(taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${DURATION}s" -s load-tests/report.lua \
      -H "Authorization: Bearer ${TOKEN[$m]}" "http://127.0.0.1:${PORT[$m]}/crm/contacts" | grep '^RESULT')
    after=$(redis_total); cpu_after=$(redis_cpu_us)
    echo "run $r $m: $line redis_round_trips=$(( after - before )) redis_cpu_us=$(( cpu_after - cpu_before ))" \
      | tee -a "$WORK/$m.runs"
  done
done
echo "== Redis commands by type over the whole run (warm-up included)"
redis-cli -p "$REDIS_PORT" INFO commandstats | grep -v -E 'cmdstat_(info|ping|hello|client)' | tee "$WORK/redis.commandstats"
FALLBACKS_DURING=$(( $(fallbacks) - FALLBACKS_BEFORE ))

field() { sed -E "s/.*$2=([0-9.]+).*/\1/" "$WORK/$1.runs" | median; }
OUT="load-tests/quota-results-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "| quota stage | req/s | p50 ms | p99 ms | p99.9 ms | non-2xx | added p50 ms vs off | Redis round trips / request | Redis CPU µs / request |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for m in "${MODES[@]}"; do
    reqs=$(sed -E 's/.*requests=([0-9]+).*/\1/' "$WORK/$m.runs" | awk '{s+=$1} END {print s}')
    cmds=$(sed -E 's/.*redis_round_trips=([0-9]+).*/\1/' "$WORK/$m.runs" | awk '{s+=$1} END {print s}')
    cpu=$(sed -E 's/.*redis_cpu_us=([0-9]+).*/\1/' "$WORK/$m.runs" | awk '{s+=$1} END {print s}')
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" "$m" "$(field "$m" rps)" "$(field "$m" p50_ms)" \
      "$(field "$m" p99_ms)" "$(field "$m" p999_ms)" \
      "$(sed -E 's/.*non2xx=([0-9]+).*/\1/' "$WORK/$m.runs" | awk '{s+=$1} END {print s}')" \
      "$(if [ -s "$WORK/off.runs" ]; then awk -v a="$(field "$m" p50_ms)" -v b="$(field off p50_ms)" \
           'BEGIN{printf "%+.3f", a-b}'; else echo "— (off not run)"; fi)" \
      "$(awk -v c="$cmds" -v n="$reqs" 'BEGIN{printf "%.3f (%d / %d)", c/n, c, n}')" \
      "$(awk -v c="$cpu" -v n="$reqs" 'BEGIN{printf "%.1f", c/n}')"
  done
  echo
  echo "Medians of $REPEATS interleaved runs of ${DURATION}s after ${WARMUP}s warm-up each; wrk -t1 -c$CONNS on CPU"
  echo "$LOAD_CPU, gateways + nginx + redis-server on CPU $SERVER_CPU; $(nproc) cores, $(java -version 2>&1 | head -1),"
  echo "$(redis-server --version | cut -d' ' -f1-3), $(date -u +%Y-%m-%dT%H:%MZ), uptime: $(uptime | sed 's/.*load/load/')."
  echo "Redis-mode fallbacks to local buckets during warm-up and runs: $FALLBACKS_DURING."
  echo "Request: GET /crm/contacts through the HTTP upstream route (token, policy with row filter and masks, quota,"
  echo "audit to the embedded PostgreSQL)."
} | tee "$OUT"
echo "written: $OUT"
