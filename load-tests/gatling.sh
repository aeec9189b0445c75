#!/usr/bin/env bash
# Realistic fleet traffic with Gatling (issue 9): many apps of every tier, short-lived tokens refreshed before they
# expire, mixed reads and writes, apps polling above their rate limit. Starts a Portcullis on the embedded PostgreSQL
# with the demo data and a generated fleet config, runs load-tests' FleetSimulation (Gatling Java DSL), prints the
# answer mix, and stops what it started. The HTML report (latency percentiles per request) is in load-tests/target/gatling.
# Usage: load-tests/gatling.sh [SECONDS=60] [APPS_PER_KIND=20] [USERS_PER_APP=2]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-60}; APPS=${2:-20}; USERS=${3:-2}; HR=$(( APPS / 4 > 0 ? APPS / 4 : 1 )); NOISY=3
PC=18094; PCA=18095
WORK=$(mktemp -d /tmp/portcullis-gatling.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true; }
trap cleanup EXIT
command -v curl >/dev/null || { echo "missing curl"; exit 1; }

echo "== build"
./mvnw -B -q -DskipTests install >/dev/null
GW_JAR=$(ls gateway/target/gateway-*.jar | grep -v original | head -1)

SECRET="pcs_fleet_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HASH=$(java --class-path "$(ls token-broker/target/token-broker-*.jar | head -1)" load-tests/HashSecret.java "$SECRET")
CONFIG="$WORK/fleet.yaml"
{
  echo "apps:"
  for i in $(seq 0 $((APPS - 1))); do n=$(printf %03d "$i")
    echo "  - {id: sandbox-$n, tier: 0, cost_center: CC-S$n, client: {secret_hash: \"$HASH\"}, attrs: {owner_id: team-facilities},"
    echo "     quota: {rate_per_second: 20, burst: 40, concurrency: 8}}"
    echo "  - {id: inventory-$n, tier: 1, cost_center: CC-I$n, client: {secret_hash: \"$HASH\"},"
    echo "     attrs: {owner_id: team-ops, team_id: ops, region: eu}, consents: [inventory.items]}"
  done
  for i in $(seq 0 $((HR - 1))); do n=$(printf %03d "$i")
    echo "  - {id: hr-$n, tier: 2, cost_center: CC-H$n, client: {secret_hash: \"$HASH\"}, attrs: {owner_id: mgr-1, reviewer_id: mgr-1}}"
  done
  for i in $(seq 0 $((NOISY - 1))); do n=$(printf %03d "$i")
    echo "  - {id: noisy-$n, tier: 0, cost_center: CC-N$n, client: {secret_hash: \"$HASH\"}, attrs: {owner_id: team-facilities},"
    echo "     quota: {rate_per_second: 1, burst: 2, concurrency: 4}}"
  done
  # the demo's three datasets (tables seeded by the demo), unchanged
  sed -n '/^datasets:/,/^grants:/p' gateway/src/main/resources/demo/demo-config.yaml | sed '$d'
  echo "grants:"
  for i in $(seq 0 $((APPS - 1))); do n=$(printf %03d "$i")
    echo "  - {id: sandbox-$n-forms, app: sandbox-$n, dataset: forms.submissions, actions: [read, create],"
    echo "     columns: {masks: {submitter_email: email_domain}}}"
    echo "  - {id: inventory-$n-items, app: inventory-$n, dataset: inventory.items, actions: [read, create],"
    echo "     row_filter: \"row.owner_id == token.attrs.owner_id\", columns: {deny: [unit_cost], masks: {supplier_email: email_domain}}}"
  done
  for i in $(seq 0 $((HR - 1))); do n=$(printf %03d "$i")
    echo "  - {id: hr-$n-approvals, app: hr-$n, dataset: hr.approvals, actions: [read], row_filter: \"row.reviewer_id == token.attrs.reviewer_id\","
    echo "     columns: {masks: {salary_band: hash, requestor_email: last4}},"
    echo "     approval: {by: dara@corp.example, at: 2026-10-15T09:00:00Z, reason: load test}}"
  done
  for i in $(seq 0 $((NOISY - 1))); do n=$(printf %03d "$i")
    echo "  - {id: noisy-$n-forms, app: noisy-$n, dataset: forms.submissions, actions: [read], columns: {masks: {submitter_email: email_domain}}}"
  done
} > "$CONFIG"

echo "== Portcullis (embedded PostgreSQL, demo data, $((2 * APPS + HR + NOISY)) generated apps)"
java -Xms1g -Xmx1g -jar "$GW_JAR" --server.port=$PC --portcullis.admin.port=$PCA \
  --portcullis.database.data-dir="$WORK/pgdata" --portcullis.policy.config-file="$CONFIG" \
  --portcullis.audit.spill-dir="$WORK/spill" > "$WORK/portcullis.log" 2>&1 & PID=$!
for _ in $(seq 1 120); do curl -s -o /dev/null "http://127.0.0.1:$PC/.well-known/jwks.json" && break; sleep 1; done
curl -s -o /dev/null "http://127.0.0.1:$PC/.well-known/jwks.json" || { tail -40 "$WORK/portcullis.log"; exit 1; }

echo "== Gatling: ${SECONDS_RUN}s, $APPS sandbox + $APPS inventory + $HR hr + $NOISY noisy apps, $USERS users per app"
./mvnw -B -q -pl load-tests -Pgatling gatling:test -Dportcullis.base="http://127.0.0.1:$PC" \
  -Dportcullis.secret="$SECRET" -Dfleet.seconds="$SECONDS_RUN" -Dfleet.sandbox="$APPS" -Dfleet.inventory="$APPS" \
  -Dfleet.hr="$HR" -Dfleet.noisy="$NOISY" -Dfleet.users-per-app="$USERS"
echo "HTML report: $(ls -dt load-tests/target/gatling/*/ | head -1)index.html"
