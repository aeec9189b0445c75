#!/usr/bin/env bash
# Side-by-side throughput and latency of the same request through:
#   upstream (nginx serving a static JSON page), nginx reverse proxy, bare Spring Cloud Gateway route, and
#   Portcullis with full enforcement (token, policy with a row filter and two masks, quota, audit to PostgreSQL).
# Load generator and servers pinned to separate cores; warm-up, then REPEATS runs each; medians reported.
# Usage: load-tests/run.sh [DURATION_S=15] [REPEATS=3] [CONNECTIONS=32]      (~5 minutes with the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}; REPEATS=${2:-3}; CONNS=${3:-32}; WARMUP=10
UP=18081; NGX=18082; SCG=18083; PC=18084; PCA=18085
WORK=$(mktemp -d /tmp/portcullis-load.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for tool in wrk nginx taskset curl java; do
  command -v $tool >/dev/null || { echo "missing $tool (Debian: apt-get install -y wrk nginx util-linux curl)"; exit 1; }
done
CORES=$(nproc); SERVER_CPU=0; LOAD_CPU=$(( CORES > 1 ? 1 : 0 ))

echo "== build"
./mvnw -B -q -DskipTests install >/dev/null
GW_JAR=$(ls gateway/target/gateway-*.jar | grep -v original | head -1)
SCG_JAR=$(ls load-tests/target/load-tests-*.jar | grep -v original | head -1)

echo "== upstream (nginx static) and nginx proxy"
mkdir -p "$WORK/www/crm" "$WORK/logs"
chmod 755 "$WORK"   # nginx workers run unprivileged and must read the static page
python3 - "$WORK/www/crm/contacts" <<'PY'
import json, sys
owners = ["team-ops", "team-sales", "team-lab"]
rows = [{"id": i, "owner_id": owners[i % 3], "name": f"Contact {i}", "email": f"c{i}@client{i % 7}.example",
         "phone": f"+44 20 7946 {1000 + i:04d}", "region": "eu" if i % 2 else "us", "score": i % 100}
        for i in range(1, 61)]
json.dump({"data": rows, "page": 1}, open(sys.argv[1], "w"))
PY
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  upstream up { server 127.0.0.1:$UP; keepalive 64; }
  server { listen 127.0.0.1:$UP; root $WORK/www; }
  server { listen 127.0.0.1:$NGX;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
NGINX
taskset -c $SERVER_CPU nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/error.log"

echo "== bare Spring Cloud Gateway"
taskset -c $SERVER_CPU java -Xms512m -Xmx512m -jar "$SCG_JAR" --server.port=$SCG --upstream=http://127.0.0.1:$UP \
  > "$WORK/scg.log" 2>&1 & PIDS+=($!)

echo "== Portcullis (embedded PostgreSQL, generated policy)"
SECRET="pcs_load_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HASH=$(java --class-path "$(ls token-broker/target/token-broker-*.jar | head -1)" load-tests/HashSecret.java "$SECRET")
cat > "$WORK/portcullis.yaml" <<YAML
apps:
  - id: load-app
    tier: 1
    client: {secret_hash: "$HASH"}
    attrs: {owner_id: team-ops}
    consents: [crm.contacts]
    quota: {rate_per_second: 1000000, burst: 1000000, concurrency: 100000}
routes:
  - {id: crm, path_prefix: /crm, uri: "http://127.0.0.1:$UP/crm", timeout: 5s}   # prefix replaced by the uri path
datasets:
  - name: crm.contacts
    template: custom
    source: {type: http, route: crm, rows_pointer: /data}
    columns:
      - {name: id, type: bigint}
      - {name: owner_id, type: text}
      - {name: name, type: text}
      - {name: email, type: text, tags: [pii]}
      - {name: phone, type: text, tags: [pii]}
      - {name: region, type: text}
      - {name: score, type: integer}
grants:
  - id: load-app-crm
    app: load-app
    dataset: crm.contacts
    actions: [read]
    row_filter: "row.owner_id == token.attrs.owner_id"
    columns:
      masks: {email: email_domain, phone: last4}
YAML
taskset -c $SERVER_CPU java -Xms1g -Xmx1g -jar "$GW_JAR" --server.port=$PC --portcullis.admin.port=$PCA \
  --portcullis.demo.enabled=false --portcullis.database.data-dir="$WORK/pgdata" \
  --portcullis.policy.config-file="$WORK/portcullis.yaml" --portcullis.audit.spill-dir="$WORK/spill" \
  --portcullis.broker.key-encryption-key="$(head -c 32 /dev/urandom | base64)" \
  > "$WORK/portcullis.log" 2>&1 & PIDS+=($!)

wait_for() { for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 1; done; echo "timeout: $1"; tail -30 "$2"; exit 1; }
wait_for "http://127.0.0.1:$SCG/crm/contacts" "$WORK/scg.log"
wait_for "http://127.0.0.1:$PC/.well-known/jwks.json" "$WORK/portcullis.log"
TOKEN=$(curl -s -u "load-app:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$PC/oauth2/token" \
  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
CHECK=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PC/crm/contacts")
echo "$CHECK" | grep -q '"team-sales"' && { echo "row filter did not hold: $CHECK" | head -c 400; exit 1; }
echo "$CHECK" | grep -q '"c[0-9]*@client' && { echo "email not masked: $CHECK" | head -c 400; exit 1; }
echo "$CHECK" | grep -q '"team-ops"' || { echo "Portcullis did not answer rows: $CHECK" | head -c 400; exit 1; }

declare -A URLS=( [upstream]="http://127.0.0.1:$UP/crm/contacts" [nginx]="http://127.0.0.1:$NGX/crm/contacts"
                  [scg]="http://127.0.0.1:$SCG/crm/contacts" [portcullis]="http://127.0.0.1:$PC/crm/contacts" )
ORDER=(upstream nginx scg portcullis)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A RPS P50 P99 P999
for target in "${ORDER[@]}"; do
  url=${URLS[$target]}
  echo "== $target: warm-up ${WARMUP}s, then $REPEATS x ${DURATION}s with $CONNS connections"
  taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
  : > "$WORK/$target.runs"
  for r in $(seq 1 "$REPEATS"); do
    taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${DURATION}s" -s load-tests/report.lua \
      -H "Authorization: Bearer $TOKEN" "$url" | grep '^RESULT' | tee -a "$WORK/$target.runs"
  done
  field() { sed -E "s/.*$1=([0-9.]+).*/\1/" "$WORK/$target.runs" | median; }
  RPS[$target]=$(field rps); P50[$target]=$(field p50_ms); P99[$target]=$(field p99_ms); P999[$target]=$(field p999_ms)
done

OUT="load-tests/results-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "| target | req/s | p50 ms | p99 ms | p99.9 ms | vs bare SCG | vs nginx |"
  echo "|---|---|---|---|---|---|---|"
  for t in "${ORDER[@]}"; do
    printf "| %s | %s | %s | %s | %s | %s | %s |\n" "$t" "${RPS[$t]}" "${P50[$t]}" "${P99[$t]}" "${P999[$t]}" \
      "$(awk -v a="${RPS[$t]}" -v b="${RPS[scg]}" 'BEGIN{printf "%.2f", a/b}')" \
      "$(awk -v a="${RPS[$t]}" -v b="${RPS[nginx]}" 'BEGIN{printf "%.2f", a/b}')"
  done
  echo
  echo "Medians of $REPEATS runs of ${DURATION}s after ${WARMUP}s warm-up; wrk -t1 -c$CONNS on CPU $LOAD_CPU, servers on CPU $SERVER_CPU;"
  echo "$(nproc) cores, $(java -version 2>&1 | head -1), $(date -u +%Y-%m-%dT%H:%MZ). Request: GET /crm/contacts (60 rows;"
  echo "Portcullis keeps the 20 rows of the token's owner and masks email and phone)."
} | tee "$OUT"
echo "written: $OUT"
