# Shared pieces of the load-tests scripts (sourced, not run): the static upstream, the Portcullis load config, starting
# a Portcullis instance, tokens, wrk measurement. Callers set WORK (a temp dir) and PIDS=() and install `cleanup`.

CORES=$(nproc); SERVER_CPU=0; LOAD_CPU=$(( CORES > 1 ? 1 : 0 ))
# one key-encryption key per run: replicas sharing a database must unseal the same signing keys
KEK=${KEK:-$(head -c 32 /dev/urandom | base64)}

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  # the run's jars and PostgreSQL data are hundreds of MB each; KEEP_WORK=1 keeps them for a post-mortem
  [ "${KEEP_WORK:-0}" = 1 ] || { [ -n "${WORK:-}" ] && case "$WORK" in /tmp/portcullis-*) rm -rf "$WORK";; esac; }
}

require() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Debian: apt-get install -y wrk nginx redis-server util-linux curl)"; exit 1; }
  done
}

# build_gateway: packages the gateway (and what it needs) without installing; sets GW_JAR, BROKER_JAR and SCG_JAR to
# copies in $WORK, so a build or test run in the same tree during a long run (soak) cannot rewrite a jar in use.
build_gateway() {
  ./mvnw -B -q -DskipTests -Djacoco.skip=true -pl gateway,load-tests -am package >/dev/null
  mkdir -p "$WORK/jars"
  local jar
  for jar in gateway token-broker load-tests; do
    cp "$(ls $jar/target/$jar-*.jar | grep -v original | head -1)" "$WORK/jars/$jar.jar"
  done
  GW_JAR=$WORK/jars/gateway.jar; BROKER_JAR=$WORK/jars/token-broker.jar; SCG_JAR=$WORK/jars/load-tests.jar
}

# start_upstream PORT [PROXY_PORT]: nginx serving a 60-row JSON page at /crm/contacts (and proxying to it on PROXY_PORT).
# UPSTREAM_KEEPALIVE_TIMEOUT / UPSTREAM_KEEPALIVE_REQUESTS: how long an idle keep-alive connection stays open and how
# many requests one carries; low values reproduce upstreams that close pooled connections under the gateway.
start_upstream() {
  local up=$1 proxy=${2:-}
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
  local proxy_server=""
  [ -n "$proxy" ] && proxy_server="upstream up { server 127.0.0.1:$up; keepalive 64; }
  server { listen 127.0.0.1:$proxy;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
  cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests ${UPSTREAM_KEEPALIVE_REQUESTS:-1000000};
  keepalive_timeout ${UPSTREAM_KEEPALIVE_TIMEOUT:-75s};
  server { listen 127.0.0.1:$up; root $WORK/www; }
  $proxy_server
}
NGINX
  taskset -c $SERVER_CPU nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/logs/error.log"
}

# write_load_config UPSTREAM_PORT: one app reading the upstream page through a route with a row filter and two masks;
# sets SECRET and writes $WORK/portcullis.yaml.
write_load_config() {
  local up=$1 hash
  SECRET="pcs_load_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  hash=$(java --class-path "$BROKER_JAR" load-tests/HashSecret.java "$SECRET")
  cat > "$WORK/portcullis.yaml" <<YAML
apps:
  - id: load-app
    tier: 1
    client: {secret_hash: "$hash"}
    attrs: {owner_id: team-ops}
    consents: [crm.contacts]
    quota: {rate_per_second: 1000000, burst: 1000000, concurrency: 100000}
routes:
  - {id: crm, path_prefix: /crm, uri: "http://127.0.0.1:$up/crm", timeout: 5s}   # prefix replaced by the uri path
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
}

# start_portcullis NAME PORT [extra args...]: a Portcullis on its own embedded PostgreSQL with the load config,
# pinned to the server CPU; admin port PORT+1; log in $WORK/portcullis-NAME.log; pid appended to PIDS.
start_portcullis() {
  local name=$1 port=$2; shift 2
  taskset -c $SERVER_CPU java -Xms1g -Xmx1g ${PORTCULLIS_JAVA_OPTS:-} -jar "$GW_JAR" --server.port="$port" \
    --portcullis.admin.port=$(( port + 1 )) --portcullis.demo.enabled=false \
    --portcullis.database.data-dir="$WORK/pgdata-$name" --portcullis.policy.config-file="$WORK/portcullis.yaml" \
    --portcullis.audit.spill-dir="$WORK/spill-$name" --portcullis.audit.chain-id="load-$name" \
    --portcullis.broker.key-encryption-key="$KEK" "$@" \
    > "$WORK/portcullis-$name.log" 2>&1 &
  PIDS+=($!)
}

wait_for() { for _ in $(seq 1 "${START_TIMEOUT:-300}"); do curl -s -o /dev/null "$1" && return 0; sleep 1; done; echo "timeout: $1"; tail -30 "$2"; exit 1; }

# load_token PORT: a client-credentials token of load-app, after checking the instance answers governed rows.
load_token() {
  local port=$1 token check
  token=$(curl -s -u "load-app:$SECRET" -d grant_type=client_credentials "http://127.0.0.1:$port/oauth2/token" \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  check=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/crm/contacts")
  echo "$check" | grep -q '"team-sales"' && { echo "row filter did not hold: $check" | head -c 400 >&2; exit 1; }
  echo "$check" | grep -q '"c[0-9]*@client' && { echo "email not masked: $check" | head -c 400 >&2; exit 1; }
  echo "$check" | grep -q '"team-ops"' || { echo "Portcullis did not answer rows: $check" | head -c 400 >&2; exit 1; }
  echo "$token"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure URL SECONDS CONNECTIONS TOKEN: one wrk run on the load CPU; prints report.lua's RESULT line.
measure() {
  taskset -c $LOAD_CPU wrk -t1 -c"$3" -d"${2}s" -s load-tests/report.lua -H "Authorization: Bearer $4" "$1" \
    | grep '^RESULT'
}

# seed_people DB: a fresh database DB on $PG with the connector benchmarks' table bench.people (1,000,000 rows,
# half of them team-ops) and $WORK/portcullis.yaml granting bench-app (tier 1) a read of it with the row filter
# row.team == token.attrs.team and two masks; sets R2DBC, HOSTPORT, SECRET. Needs BROKER_JAR (for the secret's hash).
seed_people() {
  local DB=$1
  psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
  psql "$PG/$DB" -q >/dev/null <<'SQL'
CREATE SCHEMA bench;
CREATE TABLE bench.people AS SELECT g::bigint AS id, CASE WHEN g % 2 = 0 THEN 'team-ops' ELSE 'team-sales' END AS team,
  'Person ' || g AS name, 'p' || g || '@client' || (g % 7) || '.example' AS email,
  '+44 20 7946 ' || lpad((g % 10000)::text, 4, '0') AS phone, (g % 100)::int AS score
  FROM generate_series(1, 1000000) g;
ALTER TABLE bench.people ADD PRIMARY KEY (id);
ANALYZE bench.people;
SQL
  HOSTPORT=$(echo "$PG" | sed -E 's|.*@([^/]+).*|\1|'); local PGUSER_=$(echo "$PG" | sed -E 's|postgresql://([^@:]+).*|\1|')
  R2DBC="r2dbc:postgresql://$PGUSER_@$HOSTPORT/$DB"
  SECRET="pcs_bench_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  HASH=$(java --class-path "$BROKER_JAR" load-tests/HashSecret.java "$SECRET")
  cat > "$WORK/portcullis.yaml" <<YAML
apps:
  - id: bench-app
    tier: 1
    client: {secret_hash: "$HASH"}
    attrs: {team: team-ops}
    quota: {rate_per_second: 1000, burst: 1000, concurrency: 100}
datasets:
  - name: bench.people
    template: custom
    max_limit: 1000000
    source: {type: postgres, schema: bench, table: people, key: id}
    columns:
      - {name: id, type: bigint}
      - {name: team, type: text}
      - {name: name, type: text}
      - {name: email, type: text}
      - {name: phone, type: text}
      - {name: score, type: integer}
grants:
  - id: bench-app-people
    app: bench-app
    dataset: bench.people
    actions: [read]
    row_filter: "row.team == token.attrs.team"
    columns:
      masks: {email: email_domain, phone: last4}
YAML
}
