#!/usr/bin/env bash
# CPU per request of ONE warmed-up Portcullis (full enforcement: the run.sh request), for A/B comparisons of builds or
# settings on a busy machine: start several at once on different ports (same noise for all), warm each by time, then
# count the gateway JVM's and its embedded PostgreSQL's CPU over a measured wrk run (and, if `perf` is installed, its
# context switches). Prints wrk's RESULT line, then cpu_ms_per_req / pg_ms_per_req / ctx_switches_per_req.
# Usage: [JAR=gateway.jar] [UP=19081] [PORT=19084] [JFR=out.jfr] [PROFILE=out.collapsed ASYNC_PROFILER=lib.so] [RATE=N] [RUNS=k] load-tests/warm-cpu.sh WARM_S MEASURE_S [gateway args]
#   e.g. JAR=/tmp/a.jar PORT=19084 UP=19081 load-tests/warm-cpu.sh 540 90 &
#        JAR=/tmp/b.jar PORT=19094 UP=19091 load-tests/warm-cpu.sh 540 90 \
#          --spring.profiles.active=bench --portcullis.audit.sink=none &
#      SCG_JAR=load-tests.jar UP=19101 PORT=19104 load-tests/warm-cpu.sh 540 90 &   # the bare SCG route, same request
# With SCG_JAR set, the bare Spring Cloud Gateway passthrough (BareGatewayApplication, as run.sh starts it) is measured
# instead of Portcullis, so one run gives the ratio bare/Portcullis of CPU per request, the figure issue 9 judges.
# The servers are not pinned (SERVER_CPU=0,1): several instances and other work share both cores alike.
# With RATE=N the measured run is FixedRateLoad at a fixed N req/s (open model, as run.sh's fixed-rate phase; the
# warm-up stays wrk) instead of wrk at saturation: CPU per request where batching does not come for free, and its
# FIXED line (p50/p99). FIXED_WARMUP (default 5 s, the client's own JIT) runs at the same rate and is counted in the
# CPU figure with its requests; FIXED_CONNS (default 32) connections; LOAD_JAR: the load-tests jar holding the client
# (default: load-tests/target's). E.g. three instances side by side at 800 req/s each:
#   RATE=800 JAR=/tmp/base.jar PORT=19204 UP=19201 load-tests/warm-cpu.sh 120 60 &
#   RATE=800 JAR=/tmp/new.jar PORT=19214 UP=19211 load-tests/warm-cpu.sh 120 60 &
#   RATE=800 JAR=/tmp/new.jar PORT=19224 UP=19221 load-tests/warm-cpu.sh 120 60 \
#     --spring.profiles.active=bench --portcullis.audit.sink=none &
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
  [ -n "${JAR:-}" ] || { build_gateway; JAR=$GW_JAR; LOAD_JAR=${LOAD_JAR:-$SCG_JAR}; }
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
# PROFILE=out.collapsed with ASYNC_PROFILER=libasyncProfiler.so (tools.profiler:async-profiler on Maven Central):
# CPU samples of the measured runs only (itimer, ~1 kHz, per thread), as collapsed stacks
# (the options quoted again: jcmd would read "event=…" as an argument of its own)
[ -n "${PROFILE:-}" ] && jcmd "$GW" JVMTI.agent_load "$ASYNC_PROFILER" '"start,event=itimer,interval=997us,threads"' >/dev/null
PG=$(pgrep -f -- "-D $WORK/pgdata-p" | head -1 || true)
ticks() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
pg_ticks() { [ -z "$PG" ] && { echo 0; return; }; ticks "$PG" $(pgrep -P "$PG" || true); }
if [ -n "${RATE:-}" ]; then
  FIXED_WARMUP=${FIXED_WARMUP:-5}
  LOAD_JAR=${LOAD_JAR:-$(ls load-tests/target/load-tests-*.jar | grep -v original | head -1)}
  mkdir -p "$WORK/harness" && unzip -q -o "$LOAD_JAR" -d "$WORK/harness"
  PERF_S=$((REC + FIXED_WARMUP - 1))
else
  PERF_S=$((REC - 1))
fi
# RUNS=k (default 1): k measured runs back to back, then a MEDIAN line (CPU, PostgreSQL CPU, p50, p99)
for run in $(seq 1 "${RUNS:-1}"); do
  BG=()
  if command -v perf >/dev/null; then
    perf stat -e task-clock,context-switches -p "$GW" -o "$WORK/perf.stat" -- sleep "$PERF_S" 2>/dev/null & BG+=($!)
  fi
  t0=$(ticks "$GW"); p0=$(pg_ticks)
  if [ -n "${RATE:-}" ]; then
    # in the background and in PIDS, so a killed script stops the client with the servers (a command substitution's
    # process outlived it)
    taskset -c $LOAD_CPU java -Xms256m -Xmx256m \
      -cp "$WORK/harness/BOOT-INF/classes:$WORK/harness/BOOT-INF/lib/*" io.portcullis.loadtests.FixedRateLoad \
      "$RATE" "$REC" "$FIXED_WARMUP" "${FIXED_CONNS:-32}" "p=http://127.0.0.1:$PORT/crm/contacts|$TOKEN" \
      > "$WORK/fixed.out" 2>&1 & PIDS+=($!)
    wait "${PIDS[-1]}" || true
    fixed=$(cat "$WORK/fixed.out")
    line=$(echo "$fixed" | grep '^FIXED ')
    echo "$fixed" | grep '^STALL ' || true
    # the client's warm-up requests are in the ticks too, at the same rate; its start-up (~1 s, server idle) as well
    n=$(awk -v r="$RATE" -v s="$((REC + FIXED_WARMUP))" 'BEGIN{printf "%d", r * s}')
  else
    line=$(measure "http://127.0.0.1:$PORT/crm/contacts" "$REC" 16 "$TOKEN")
    n=$(echo "$line" | sed -nE 's/.*rps=([0-9.]+).*/\1/p' | awk -v d="$REC" '{printf "%d", $1 * d}')
  fi
  sleep 1   # the audit drain's last batch
  t1=$(ticks "$GW"); p1=$(pg_ticks)
  [ ${#BG[@]} -gt 0 ] && wait "${BG[@]}"
  cs=$(awk '/context-switches/ {gsub(",", "", $1); print $1}' "$WORK/perf.stat" 2>/dev/null || true)
  echo "$line"
  awk -v t=$((t1 - t0)) -v pg=$((p1 - p0)) -v hz="$(getconf CLK_TCK)" -v n="$n" -v cs="${cs:-}" 'BEGIN {
    printf "cpu_ms_per_req=%.3f pg_ms_per_req=%.3f", t * 1000 / hz / n, pg * 1000 / hz / n
    if (cs != "") printf " ctx_switches_per_req=%.2f", cs / n
    printf "\n" }' | tee -a "$WORK/cpu.runs"
  echo "$line" >> "$WORK/lat.runs"
  echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
done
[ -n "${JFR:-}" ] && jcmd "$GW" JFR.dump name=m filename="$JFR" >/dev/null
[ -n "${PROFILE:-}" ] && jcmd "$GW" JVMTI.agent_load "$ASYNC_PROFILER" "\"stop,file=$(realpath "$PROFILE"),collapsed\"" >/dev/null
if (( ${RUNS:-1} > 1 )); then
  med() { sed -nE "s/.* ?$1=([0-9.]+).*/\1/p" "$2" | median; }
  echo "MEDIAN runs=$RUNS cpu_ms_per_req=$(med cpu_ms_per_req "$WORK/cpu.runs") pg_ms_per_req=$(med pg_ms_per_req \
"$WORK/cpu.runs") p50_ms=$(med p50_ms "$WORK/lat.runs") p99_ms=$(med p99_ms "$WORK/lat.runs")"
fi
