#!/usr/bin/env bash
# Stale pooled connections (issue 9): an upstream that closes idle keep-alive connections after 5 s (Node.js, Apache
# httpd) and every connection after 100 requests, read through two gateways from the same jar: `scg-pool` with Spring
# Cloud Gateway's pool defaults (no idle limit, FIFO, no background eviction) and `portcullis-pool` with the
# application.yaml pool settings.
#   1. BURSTS bursts of PARALLEL reads, each after a pause around the upstream's keep-alive timeout;
#   2. ROUNDS wrk runs of RUN_SECONDS per gateway, alternating, so each gateway's pool sits idle longer than the
#      upstream's timeout between its runs (what run.sh does between targets).
# Prints the answers' statuses and how often each gateway found a pooled connection already closed by the upstream
# (retried on a fresh one; GovernedUpstreamFilter's debug log).
# Usage: [UPSTREAM_KEEPALIVE_TIMEOUT=5s] [UPSTREAM_KEEPALIVE_REQUESTS=100] [ROUNDS=4] [RUN_SECONDS=10] [CONNS=32]
#        load-tests/keepalive-race.sh [BURSTS=10] [PARALLEL=32]      (~BURSTS x 11 s + ROUNDS x 2 x RUN_SECONDS + startup)
set -euo pipefail
cd "$(dirname "$0")/.."
BURSTS=${1:-10}; PARALLEL=${2:-32}; ROUNDS=${ROUNDS:-4}; SECONDS_PER_RUN=${RUN_SECONDS:-10}; CONNS=${CONNS:-32}
export UPSTREAM_KEEPALIVE_TIMEOUT=${UPSTREAM_KEEPALIVE_TIMEOUT:-5s}
export UPSTREAM_KEEPALIVE_REQUESTS=${UPSTREAM_KEEPALIVE_REQUESTS:-100}
UP=18381; PA=18384; PB=18386
WORK=$(mktemp -d /tmp/portcullis-keepalive.XXXXXX)
PIDS=()
source load-tests/lib.sh
trap cleanup EXIT
require nginx taskset curl java wrk

echo "== build"
build_gateway
start_upstream $UP
write_load_config $UP
POOL=spring.cloud.gateway.server.webflux.httpclient.pool
# one after the other: two JVMs and two PostgreSQL starting on one core can miss the pool's acquisition timeout
# Spring Cloud Gateway's defaults: no idle or life limit (an hour is none here), FIFO, no background eviction
DEBUG=--logging.level.io.portcullis.gateway.connector.http=debug   # the stale-connection retries
start_portcullis scg-pool $PA $DEBUG --$POOL.max-idle-time=1h --$POOL.max-life-time=1h --$POOL.leasing-strategy=fifo \
  --$POOL.eviction-interval=0 --portcullis.database.acquire-timeout=20s
wait_for "http://127.0.0.1:$PA/.well-known/jwks.json" "$WORK/portcullis-scg-pool.log"
start_portcullis portcullis-pool $PB $DEBUG --portcullis.database.acquire-timeout=20s
wait_for "http://127.0.0.1:$PB/.well-known/jwks.json" "$WORK/portcullis-portcullis-pool.log"
declare -A TOKEN=( [scg-pool]=$(load_token $PA) [portcullis-pool]=$(load_token $PB) )
declare -A PORT=( [scg-pool]=$PA [portcullis-pool]=$PB )

timeout_s=${UPSTREAM_KEEPALIVE_TIMEOUT%s}
burst() {   # one burst of PARALLEL reads; prints one status code per request
  local name=$1 urls=()
  for _ in $(seq 1 "$PARALLEL"); do urls+=(-o /dev/null "http://127.0.0.1:${PORT[$name]}/crm/contacts"); done
  taskset -c $LOAD_CPU curl -s --no-progress-meter -Z --parallel-max "$PARALLEL" -H "Authorization: Bearer ${TOKEN[$name]}" \
    -w '%{http_code}\n' "${urls[@]}"
}
for name in scg-pool portcullis-pool; do burst "$name" >/dev/null; done   # warm: fill both pools
for b in $(seq 1 "$BURSTS"); do
  # both gateways get the same pause, drawn from timeout -0.4 s .. +0.4 s: the upstream closes idle connections then
  pause=$(awk -v t="$timeout_s" -v r="$RANDOM" 'BEGIN{printf "%.2f", t - 0.4 + (r % 81) / 100}')
  sleep "$pause"
  burst scg-pool > "$WORK/scg-pool.$b" & a=$!
  burst portcullis-pool > "$WORK/portcullis-pool.$b" & c=$!
  wait "$a" "$c" || true
  printf "burst %2d after %ss: scg-pool %s, portcullis-pool %s\n" "$b" "$pause" \
    "$(grep -vc '^200$' "$WORK/scg-pool.$b" || true) non-200" "$(grep -vc '^200$' "$WORK/portcullis-pool.$b" || true) non-200"
done
burst_stale() { grep -c "pooled connection closed by the upstream (" "$WORK/portcullis-$1.log" || true; }
declare -A BURST_STALE=( [scg-pool]=$(burst_stale scg-pool) [portcullis-pool]=$(burst_stale portcullis-pool) )
: > "$WORK/scg-pool.wrk"; : > "$WORK/portcullis-pool.wrk"
for r in $(seq 1 "$ROUNDS"); do
  for name in scg-pool portcullis-pool; do
    line=$(measure "http://127.0.0.1:${PORT[$name]}/crm/contacts" "$SECONDS_PER_RUN" "$CONNS" "${TOKEN[$name]}")
    echo "round $r $name: $line" | tee -a "$WORK/$name.wrk"
  done
done
echo
for name in scg-pool portcullis-pool; do
  total=$(cat "$WORK/$name".[0-9]* 2>/dev/null | wc -l || true)
  bad=$(cat "$WORK/$name".[0-9]* 2>/dev/null | grep -vc '^200$' || true)
  stale=$(grep -c "pooled connection closed by the upstream (" "$WORK/portcullis-$name.log" || true)
  failed=$(grep -c "upstream unreachable" "$WORK/portcullis-$name.log" || true)
  wrk_total=$(sed -E 's/.*requests=([0-9]+).*/\1/' "$WORK/$name.wrk" | paste -sd+ | bc)
  wrk_bad=$(sed -E 's/.*non2xx=([0-9]+).*/\1/' "$WORK/$name.wrk" | paste -sd+ | bc)
  wrk_err=$(sed -E 's/.*errors=([0-9]+).*/\1/' "$WORK/$name.wrk" | paste -sd+ | bc)
  echo "$name: bursts $bad non-200 of $total; wrk $wrk_bad non-2xx and $wrk_err socket errors of $wrk_total;" \
    "stale pooled connections retried: ${BURST_STALE[$name]} in the bursts, $(( stale - BURST_STALE[$name] )) under wrk;" \
    "$failed upstream failures logged"
done
echo "upstream keepalive_timeout $UPSTREAM_KEEPALIVE_TIMEOUT, keepalive_requests $UPSTREAM_KEEPALIVE_REQUESTS;" \
  "$BURSTS bursts of $PARALLEL; $ROUNDS x ${SECONDS_PER_RUN}s wrk -c$CONNS per gateway;" \
  "$(date -u +%Y-%m-%dT%H:%MZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
