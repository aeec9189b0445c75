#!/usr/bin/env bash
# A/B of gateway builds on the PostgreSQL connector bench, in one run: seeds the bench table once (as
# connector-bench.sh), starts every given gateway jar side by side (each pinned to CPU 0, idle while the others read),
# then for ITER iterations runs ConnectorBench (2 rounds; 2 warm-up rounds the first time, 1 after) against each jar
# in turn, appending its round lines to OUT. Compare the gateways' CPU µs per row over the rounds after the first
# iteration: on a busy machine single rounds swing by ±30 %, the medians of ~10 rounds each much less.
# Needs the token-broker and load-tests jars in target/ (`./mvnw -q -o -DskipTests -pl gateway,load-tests -am package`).
# Usage: [PG=postgresql://postgres@127.0.0.1:5432] load-tests/connector-ab.sh OUT ITER LABEL=JAR[=JAVA_OPTS]...
#   e.g. load-tests/connector-ab.sh /tmp/ab.out 6 before=/tmp/main.jar after=$PWD/gateway/target/gateway-0.1.0-SNAPSHOT.jar
#   (absolute jar paths: the script runs from the repository root)
set -euo pipefail
OUT=$(realpath "$1"); ITER=$2; shift 2
: > "$OUT"
cd "$(dirname "$0")/.."
PG=${PG:-postgresql://postgres@127.0.0.1:5432}
PORT=${PORT:-28500}
WORK=$(mktemp -d /tmp/portcullis-connab.XXXXXX)
PIDS=()
source load-tests/lib.sh
DB="portcullis_connab_$$"
finish() { cleanup; rm -rf "$WORK/harness" "$WORK/jars" "$WORK"/pgdata-*; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap finish EXIT
mkdir -p "$WORK/jars"
for jar in token-broker load-tests; do cp "$(ls $jar/target/$jar-*.jar | grep -v original | head -1)" "$WORK/jars/$jar.jar"; done
BROKER_JAR=$WORK/jars/token-broker.jar; SCG_JAR=$WORK/jars/load-tests.jar
unzip -q "$SCG_JAR" -d "$WORK/harness"
seed_people "$DB"
LABELS=(); PORTS=(); GPIDS=()
await_up() {   # up to 15 minutes: a start on a saturated machine has taken 5
  for _ in $(seq 1 900); do curl -s -o /dev/null "http://127.0.0.1:${PORTS[$1]}/.well-known/jwks.json" && return; sleep 1; done
}
port=$PORT
for spec in "$@"; do
  label=${spec%%=*}; rest=${spec#*=}; jar=${rest%%=*}; opts=""; [ "$rest" != "$jar" ] && opts=${rest#*=}
  cp "$jar" "$WORK/jars/gw-$label.jar"; GW_JAR=$WORK/jars/gw-$label.jar
  PORTCULLIS_JAVA_OPTS="$opts" start_portcullis "$label" $port --portcullis.database.url="$R2DBC"
  LABELS+=("$label"); PORTS+=($port); GPIDS+=(${PIDS[-1]}); port=$((port + 10))
  # the first gateway creates the shared database's schema alone: started together, three raced on it
  [ ${#LABELS[@]} = 1 ] && await_up 0
done
for i in "${!LABELS[@]}"; do await_up "$i"; done
echo "started $(date -u +%H:%M:%S)" >> "$OUT"
for it in $(seq 1 "$ITER"); do
  for i in "${!LABELS[@]}"; do
    p=${PORTS[$i]}
    TOKEN=$(curl -s -u "bench-app:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$p/oauth2/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
    w=1; [ "$it" = 1 ] && w=2
    echo "--- ${LABELS[$i]} iter $it $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT"
    taskset -c $LOAD_CPU java -Xmx1g -cp "$WORK/harness/BOOT-INF/classes:$WORK/harness/BOOT-INF/lib/*" \
      io.portcullis.loadtests.ConnectorBench "$R2DBC" "http://127.0.0.1:$p" "$TOKEN" team-ops 2 $w "${GPIDS[$i]}" 2>&1 \
      | grep -E "^round|^RESULT|Exception" >> "$OUT" || true
  done
done
echo "=== end $(date -u +%H:%M:%S)" >> "$OUT"
echo "gateway CPU us per row, rounds after the first iteration: median (min..max, n)" | tee -a "$OUT"
for l in "${LABELS[@]}"; do
  awk -v l="$l" '/^--- / {on = ($2 == l && $4 > 1)} on && /^round/ {sub(/.*gateway /, ""); sub(/ us.*/, ""); print}' "$OUT" \
    | sort -n | awk -v l="$l" '{a[NR]=$1} END {if (NR) printf "%s %.2f (%.2f..%.2f, %d)\n", l, a[int((NR+1)/2)], a[1], a[NR], NR}' \
    | tee -a "$OUT"
done
