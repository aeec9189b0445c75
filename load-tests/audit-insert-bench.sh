#!/usr/bin/env bash
# PostgreSQL's own cost of the audit sink's batch insert (PostgresAuditSink's statement: json_to_recordset over one
# JSON array per batch, the schema's seven indexes), with and without ON CONFLICT DO NOTHING, and into a copy of the
# table without indexes, alternating in one run. 300 batches of 100 synthetic events (~950 bytes of canonical JSON
# each) per measurement, one backend, synchronous_commit off (commit waits are not CPU), a checkpoint before each.
# Uses a real PostgreSQL given by PG (default the local one on 5432, trust auth: a fresh database is created and
# dropped). Prints each round's seconds and the medians.
# Usage: [PG=postgresql://postgres@127.0.0.1:5432] load-tests/audit-insert-bench.sh [ROUNDS=3]   (~1 min)
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG:-postgresql://postgres@127.0.0.1:5432}
ROUNDS=${1:-3}
DB=portcullis_audit_insert_$$
command -v psql >/dev/null || { echo "psql not found" >&2; exit 1; }
trap 'psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
psql "$PG/$DB" -q -f audit-sink/src/main/resources/io/portcullis/audit/schema.sql >/dev/null 2>&1
# the column list and record types, as PostgresAuditSink builds them from EventRows
TYPES=$(python3 - <<'PY'
import re
s = open('audit-sink/src/main/java/io/portcullis/audit/EventRows.java').read()
m = re.search(r'RECORD_TYPES = String.join\(", ", List.of\((.*?)\)\);', s, re.S)
print(', '.join(x.replace('\\"', '"') for x in re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
PY
)
COLS=$(echo "$TYPES" | sed -E 's/ (uuid|timestamptz|text\[\]|text|bigint|smallint|integer|double precision)(,|$)/\2/g')
psql "$PG/$DB" -q <<'SQL'
CREATE TABLE batches AS
SELECT b, json_agg(json_build_object(
  'event_id', (lpad(to_hex(b * 1000 + i), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(b * 1000 + i), 12, '0'))::uuid,
  'timestamp', now() + make_interval(secs => (b * 1000 + i) / 1000.0),
  'event_type', 'request', 'chain_id', 'gw-1', 'seq', b * 1000 + i, 'request_id', md5((b * 1000 + i)::text),
  'actor_id', 'user-' || (i % 50), 'actor_role', 'analyst', 'app_id', 'app-' || (i % 8), 'tier', i % 3,
  'action', 'read', 'resource_type', 'dataset', 'resource_id', 'crm.contacts', 'token_id', md5(i::text),
  'policy_ids', json_build_array('p-contacts-read', 'p-mask-email'), 'policy_version', 7, 'outcome', 'allowed',
  'status', 200, 'rows', 60, 'bytes', 9000, 'masked_columns', json_build_array('email', 'phone'),
  'row_filter', 'region = ''EU''', 'query_fingerprint', md5('q' || (i % 5)), 'cost_units', 1.5,
  'cost_center', 'cc-1', 'latency_ms', 3.25, 'client_ip', '127.0.0.1',
  'prev_hash', encode(sha256((b * 1000 + i - 1)::text::bytea), 'hex'),
  'hash', encode(sha256((b * 1000 + i)::text::bytea), 'hex')) ORDER BY i)::text AS doc
FROM generate_series(1, 300) b, generate_series(1, 100) i GROUP BY b;
CREATE TABLE no_index (LIKE portcullis.audit_events);
SQL
measure() { # TABLE SUFFIX LABEL
  psql "$PG/$DB" -q 2>&1 <<SQL | sed -n 's/.*NOTICE:  //p'
SET session_replication_role = replica;
TRUNCATE $1;
SET synchronous_commit = off;
CHECKPOINT;
DO \$\$ DECLARE r record; t0 timestamptz; BEGIN t0 := clock_timestamp();
FOR r IN SELECT doc FROM batches ORDER BY b LOOP
  EXECUTE 'INSERT INTO $1 ($COLS) SELECT $COLS FROM json_to_recordset(\$1::json) AS e($TYPES) $2' USING r.doc;
  COMMIT;
END LOOP;
RAISE NOTICE '$3 %', extract(epoch FROM clock_timestamp() - t0); END \$\$;
SQL
}
for round in $(seq 1 "$ROUNDS"); do
  measure portcullis.audit_events "ON CONFLICT DO NOTHING" on_conflict
  measure portcullis.audit_events "" plain
  measure no_index "" no_index
done | tee /dev/stderr | awk '{v[$1] = v[$1] " " $2} END {
  for (k in v) { n = split(v[k], a, " "); asort(a); m[k] = a[int((n + 1) / 2)]; printf "MEDIAN %s %.3f s (30,000 events)\n", k, m[k] }
  printf "RATIO on_conflict/plain %.3f\n", m["on_conflict"] / m["plain"] }'
