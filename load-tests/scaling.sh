#!/usr/bin/env bash
# Figures for deploy/SCALING.md (issue 9): one replica at saturation (R1, gateway CPU per request), what each request
# costs the shared components (PostgreSQL transactions and CPU, Redis commands and CPU), and two replicas sharing one
# PostgreSQL and one Redis against 2 x R1 — and, since on this 2-core machine both replicas share the one server core, the
# CPU per request of the two replicas sharing PostgreSQL and Redis against one replica's: the efficiency that holds
# when each replica has its own cores. Uses a real PostgreSQL server given by PG (default the local one on 5432,
# trust auth: a fresh database is created and dropped) and starts its own redis-server.
# Usage: PG=postgresql://postgres@127.0.0.1:5432 load-tests/scaling.sh [SECONDS=20] [CONNECTIONS=32]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}; CONNS=${2:-32}
PG=${PG:-postgresql://postgres@127.0.0.1:5432}
UP=18381; A=18384; B=18386
WORK=$(mktemp -d /tmp/portcullis-scaling.XXXXXX)
PIDS=()
source load-tests/lib.sh
DB="portcullis_scaling_$$"
finish() { cleanup; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; }
trap finish EXIT
require wrk nginx taskset curl java psql redis-server redis-cli

build_gateway
start_upstream $UP
write_load_config $UP
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
HOSTPORT=$(echo "$PG" | sed -E 's|.*@([^/]+).*|\1|'); PGUSER_=$(echo "$PG" | sed -E 's|postgresql://([^@:]+).*|\1|')
R2DBC="r2dbc:postgresql://$PGUSER_@$HOSTPORT/$DB"
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
taskset -c $SERVER_CPU redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  > "$WORK/redis.log" 2>&1 & PIDS+=($!)
SHARED=(--portcullis.database.url="$R2DBC" --portcullis.quota.redis-uri="redis://127.0.0.1:$REDIS_PORT")
start_portcullis a $A "${SHARED[@]}"; PID_A=${PIDS[-1]}
wait_for "http://127.0.0.1:$A/.well-known/jwks.json" "$WORK/portcullis-a.log"
start_portcullis b $B "${SHARED[@]}"; PID_B=${PIDS[-1]}
wait_for "http://127.0.0.1:$B/.well-known/jwks.json" "$WORK/portcullis-b.log"
TOKEN_A=$(load_token $A); TOKEN_B=$(load_token $B)

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }                      # utime + stime, in clock ticks
pg_ms() { ps -C postgres -o times= | awk '{s += $1} END {print s * 1000}'; }  # all server processes, ms (1 s steps)
pg_xacts() { psql "$PG/$DB" -tAc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB'"; }
redis_calls() { redis-cli -p "$REDIS_PORT" INFO commandstats | sed -nE 's/^cmdstat_([a-z|]+):calls=([0-9]+).*/\1 \2/p' \
  | grep -v -E '^(info|ping|hello|client)' | awk '{s += $2} END {print s + 0}'; }
redis_cpu_ms() { redis-cli -p "$REDIS_PORT" INFO cpu | sed -nE 's/^used_cpu_(sys|user):([0-9.]+).*/\2/p' | awk '{s += $1} END {print s * 1000}'; }
field() { echo "$1" | sed -E "s/.*$2=([0-9.]+).*/\1/"; }
HZ=$(getconf CLK_TCK)

echo "== warm-up"
measure "http://127.0.0.1:$A/crm/contacts" 10 "$CONNS" "$TOKEN_A" >/dev/null
measure "http://127.0.0.1:$B/crm/contacts" 10 "$CONNS" "$TOKEN_B" >/dev/null

echo "== one replica at saturation, ${DURATION}s"
t0=$(ticks $PID_A); p0=$(pg_ms); x0=$(pg_xacts); r0=$(redis_calls); rc0=$(redis_cpu_ms)
one=$(measure "http://127.0.0.1:$A/crm/contacts" "$DURATION" "$CONNS" "$TOKEN_A"); echo "$one"
t1=$(ticks $PID_A); p1=$(pg_ms); x1=$(pg_xacts); r1=$(redis_calls); rc1=$(redis_cpu_ms)
n=$(field "$one" requests)

echo "== two replicas, one PostgreSQL, one Redis, ${DURATION}s (two wrk processes on the load CPU)"
ta0=$(ticks $PID_A); tb0=$(ticks $PID_B); p2=$(pg_ms); x2=$(pg_xacts)
measure "http://127.0.0.1:$A/crm/contacts" "$DURATION" $(( CONNS / 2 )) "$TOKEN_A" > "$WORK/two-a" & WRK_A=$!
measure "http://127.0.0.1:$B/crm/contacts" "$DURATION" $(( CONNS / 2 )) "$TOKEN_B" > "$WORK/two-b"
wait $WRK_A
ta1=$(ticks $PID_A); tb1=$(ticks $PID_B); p3=$(pg_ms); x3=$(pg_xacts)
n2=$(( $(field "$(cat "$WORK/two-a")" requests) + $(field "$(cat "$WORK/two-b")" requests) ))
two=$(awk -v a="$(field "$(cat "$WORK/two-a")" rps)" -v b="$(field "$(cat "$WORK/two-b")" rps)" 'BEGIN {print a + b}')

R1=$(field "$one" rps)
awk -v r1="$R1" -v p99="$(field "$one" p99_ms)" -v n="$n" -v gw="$(( t1 - t0 ))" -v hz="$HZ" \
    -v pg="$(( p1 - p0 ))" -v xa="$(( x1 - x0 ))" -v rc="$(( r1 - r0 ))" -v rcpu="$(echo "$rc1 $rc0" | awk '{print $1 - $2}')" \
    -v two="$two" -v cores="$CORES" -v n2="$n2" -v gw2="$(( ta1 - ta0 + tb1 - tb0 ))" -v pg2="$(( p3 - p2 ))" \
    -v xa2="$(( x3 - x2 ))" 'BEGIN {
  printf "| R1 (req/s, one replica, full enforcement, Redis quotas, PostgreSQL audit) | %.0f |\n", r1
  printf "| p99 at saturation (ms) | %s |\n", p99
  printf "| gateway CPU per request (core-ms) | %.3f |\n", gw * 1000 / hz / n
  printf "| PostgreSQL transactions per request | %.3f |\n", xa / n
  printf "| PostgreSQL CPU per request (core-ms, 1 s resolution over the run) | %.3f |\n", pg / n
  printf "| Redis commands per request | %.3f |\n", rc / n
  printf "| Redis CPU per request (core-ms) | %.4f |\n", rcpu / n
  printf "| two replicas (req/s) / 2 x R1 | %.0f / %.0f = %.2f |\n", two, 2 * r1, two / (2 * r1)
  # both replicas share the one server core here, so their summed req/s cannot show scaling; what can is whether a
  # request costs more when two replicas share PostgreSQL and Redis (contention, more transactions)
  printf "| gateway CPU per request, two replicas sharing PostgreSQL and Redis (core-ms) | %.3f |\n", gw2 * 1000 / hz / n2
  printf "| PostgreSQL transactions / CPU per request, two replicas | %.3f / %.3f |\n", xa2 / n2, pg2 / n2
  printf "| CPU scaling efficiency (gateway + PostgreSQL CPU per request: one replica alone / two sharing) | %.2f |\n", \
    (gw * 1000 / hz / n + pg / n) / (gw2 * 1000 / hz / n2 + pg2 / n2)
  printf "\n%d cores; replicas, PostgreSQL clients and Redis pinned to CPU 0, wrk to CPU 1 (PostgreSQL itself unpinned).\n", cores
}' | tee "$WORK/scaling.md"
