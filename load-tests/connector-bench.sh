#!/usr/bin/env bash
# Rows per second through Portcullis's PostgreSQL connector (GET /data/bench.people as NDJSON: row filter keeping half
# of 1,000,000 rows, email and phone masked) against the same query read directly with R2DBC from the same database,
# alternating in one run (issue #5: target >= 70 % of direct). Uses a real PostgreSQL given by PG (default the local one
# on 5432, trust auth: a fresh database is created and dropped); the gateway is pinned to CPU 0, the harness (both
# readers) to CPU 1, PostgreSQL is not pinned.
# Usage: [PG=postgresql://postgres@127.0.0.1:5432] load-tests/connector-bench.sh [ROUNDS=5] [WARMUP=2]   (~2 min)
# PORT (default 18481) moves the gateway; GW_JAR=path runs that gateway jar instead of building one (A/B of two builds:
# the harness and token-broker jars then come from the tree's target/ as they are).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}; WARMUP=${2:-2}
PG=${PG:-postgresql://postgres@127.0.0.1:5432}
PORT=${PORT:-18481}
WORK=$(mktemp -d /tmp/portcullis-connector.XXXXXX)
PIDS=()
source load-tests/lib.sh
DB="portcullis_connector_$$"
finish() { cleanup; rm -rf "$WORK/harness"; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap finish EXIT
require taskset curl java psql unzip

echo "== build"
if [ -n "${GW_JAR:-}" ]; then
  mkdir -p "$WORK/jars"; cp "$GW_JAR" "$WORK/jars/gateway.jar"
  for jar in token-broker load-tests; do cp "$(ls $jar/target/$jar-*.jar | grep -v original | head -1)" "$WORK/jars/$jar.jar"; done
  GW_JAR=$WORK/jars/gateway.jar; BROKER_JAR=$WORK/jars/token-broker.jar; SCG_JAR=$WORK/jars/load-tests.jar
else
  build_gateway
fi
unzip -q "$SCG_JAR" -d "$WORK/harness"   # the harness: load-tests' classes and libraries (R2DBC, Reactor)

echo "== seed 1,000,000 rows"
seed_people "$DB"

echo "== Portcullis on $HOSTPORT/$DB"
start_portcullis bench $PORT --portcullis.database.url="$R2DBC"; GW_PID=${PIDS[-1]}
wait_for "http://127.0.0.1:$PORT/.well-known/jwks.json" "$WORK/portcullis-bench.log"
TOKEN=$(curl -s -u "bench-app:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PORT/oauth2/token" \
  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

echo "== $WARMUP warm-up and $ROUNDS measured rounds, each 500,000 rows direct and through the gateway"
taskset -c $LOAD_CPU java -Xmx1g -cp "$WORK/harness/BOOT-INF/classes:$WORK/harness/BOOT-INF/lib/*" \
  io.portcullis.loadtests.ConnectorBench "$R2DBC" "http://127.0.0.1:$PORT" "$TOKEN" team-ops "$ROUNDS" "$WARMUP" \
    "$GW_PID" \
  | tee "$WORK/bench.out"
echo "$(nproc) cores, $(java -version 2>&1 | head -1), PostgreSQL $(psql "$PG/$DB" -tAc 'SHOW server_version'),"\
  "$(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
