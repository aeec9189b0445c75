#!/usr/bin/env bash
# CPU per request of ONE warmed-up Portcullis (full enforcement: the run.sh request), for A/B comparisons of builds or
# settings on a busy machine: start several at once on different ports (same noise for all), warm each by time, then
# count the gateway JVM's and its embedded PostgreSQL's CPU over a measured wrk run (and, if `perf` is installed, its
# context switches). Prints wrk's RESULT line, then cpu_ms_per_req / pg_ms_per_req / ctx_switches_per_req.
# Usage: [JAR=gateway.jar] [UP=19081] [PORT=19084] [JFR=out.jfr] load-tests/warm-cpu.sh WARM_S MEASURE_S [gateway args]
#   e.g. JAR=/tmp/a.jar PORT=19084 UP=19081 load-tests/warm-cpu.sh 540 90 &
#        JAR=/tmp/b.jar PORT=19094 UP=19091 load-tests/warm-cpu.sh 540 90 \
#          --spring.profiles.active=bench --portcullis.audit.sink=none &
#      SCG_JAR=load-tests.jar UP=19101 PORT=19104 load-tests/warm-cpu.sh 540 90 &   # the bare SCG route, same request
# With SCG_JAR set, the bare Spring Cloud Gateway passthrough (BareGatewayApplication, as run.sh starts it) is measured
# instead of Portcullis, so one run gives the ratio bare/Portcullis of CPU per request, the figure issue 9 judges.
# The servers are not pinned (SERVER_CPU=0,1): several instances and other work share both cores alike.
set -euo pipefail
cd "$(dirname "$0")/.."
WARM=$1; REC=$2; shift 2
WORK=$(mktemp -d /tmp/portcullis-warmcpu.XXXXXX); PIDS=()
source load-tests/lib.sh
SERVER_CPU=${SERVER_CPU_OVERRIDE:-0,1}; LOAD_CPU=${LOAD_CPU_OVERRIDE:-0,1}
trap cleanup EXIT
require wrk nginx curl java
UP=${UP:-19081}; PORT=${PORT:-19084}
start_upstream "$UP"
if [ -n "${SCG_JAR:-}" ]; then
  java -Xms512m -Xmx512m -jar "$SCG_JAR" --server.port="$PORT" --upstream="http://127.0.0.1:$UP" "$@" \
    > "$WORK/scg.log" 2>&1 & PIDS+=($!)
  GW=${PIDS[-1]}
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/crm/contacts" && break; sleep 1; done
  TOKEN=unused   # the bare route relays the header like any other
else
  [ -n "${JAR:-}" ] || { build_gateway; JAR=$GW_JAR; }
  GW_JAR=$JAR
  BROKER_JAR=$(ls token-broker/target/token-broker-*.jar | grep -v original | head -1)
  write_load_config "$UP"
  start_portcullis p "$PORT" --portcullis.database.acquire-timeout=60s "$@"
  GW=${PIDS[-1]}
  # a start on a saturated machine can take minutes
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/.well-known/jwks.json" && break; sleep 1; done
  TOKEN=$(load_token "$PORT")
fi
echo "warm-up ${WARM}s: $(measure "http://127.0.0.1:$PORT/crm/contacts" "$WARM" 16 "$TOKEN")"
[ -n "${JFR:-}" ] && jcmd "$GW" JFR.start name=m settings=profile filename="$JFR" >/dev/null
PG=$(pgrep -f -- "-D $WORK/pgdata-p" | head -1 || true)
ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
pg_ticks() { [ -z "$PG" ] && { echo 0; return; }; ticks "$PG" $(pgrep -P "$PG" || true); }
BG=()
if command -v perf >/dev/null; then
  perf stat -e task-clock,context-switches -p "$GW" -o "$WORK/perf.stat" -- sleep $((REC - 1)) 2>/dev/null & BG+=($!)
fi
t0=$(ticks "$GW"); p0=$(pg_ticks)
line=$(measure "http://127.0.0.1:$PORT/crm/contacts" "$REC" 16 "$TOKEN")
sleep 1   # the audit drain's last batch
t1=$(ticks "$GW"); p1=$(pg_ticks)
[ ${#BG[@]} -gt 0 ] && wait "${BG[@]}"
[ -n "${JFR:-}" ] && jcmd "$GW" JFR.dump name=m filename="$JFR" >/dev/null
cs=$(awk '/context-switches/ {gsub(",", "", $1); print $1}' "$WORK/perf.stat" 2>/dev/null || true)
echo "$line"
echo "$line" | awk -v t=$((t1 - t0)) -v pg=$((p1 - p0)) -v hz="$(getconf CLK_TCK)" -v d="$REC" -v cs="${cs:-}" '{
  split($2, a, "="); n = a[2] * d
  printf "cpu_ms_per_req=%.3f pg_ms_per_req=%.3f", t * 1000 / hz / n, pg * 1000 / hz / n
  if (cs != "") printf " ctx_switches_per_req=%.2f", cs / n
  printf "\n" }'
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
