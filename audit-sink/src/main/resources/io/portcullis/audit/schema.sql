-- Portcullis audit store (DESIGN.md §7). Idempotent: every gateway applies it at start.
-- Serialised across instances: concurrent CREATE OR REPLACE of the same function can fail with
-- "tuple concurrently updated". One simple-query script runs as one implicit transaction, so the xact lock holds.
SELECT pg_advisory_xact_lock(7320461583140251);

CREATE SCHEMA IF NOT EXISTS portcullis;

CREATE OR REPLACE FUNCTION portcullis.audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'portcullis.% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$fn$;

-- Partitioned by month on "timestamp". A unique constraint on a partitioned table must contain the partition key,
-- hence (event_id, "timestamp"): an event keeps its timestamp forever, so replays still conflict and are skipped.
CREATE TABLE IF NOT EXISTS portcullis.audit_events (
  event_id          uuid             NOT NULL,
  "timestamp"       timestamptz      NOT NULL,
  event_type        text             NOT NULL,
  chain_id          text             NOT NULL,
  seq               bigint           NOT NULL,
  request_id        text,
  actor_id          text,
  actor_role        text,
  app_id            text,
  tier              smallint,
  action            text,
  resource_type     text,
  resource_id       text,
  token_id          text,
  policy_ids        text[],
  policy_version    bigint,
  outcome           text CHECK (outcome IN ('allowed', 'denied', 'throttled', 'error', 'cancelled')),
  status            integer,
  error_code        text,
  "rows"            bigint,
  bytes             bigint,
  masked_columns    text[],
  row_filter        text,
  query_fingerprint text,
  cost_units        double precision,
  cost_center       text,
  latency_ms        double precision,
  client_ip         text,
  prev_hash         text             NOT NULL,
  hash              text             NOT NULL,
  CONSTRAINT audit_events_event_id_key UNIQUE (event_id, "timestamp")
) PARTITION BY RANGE ("timestamp");

-- Safety net: rows land here only if monthly partition maintenance fell behind.
CREATE TABLE IF NOT EXISTS portcullis.audit_events_default PARTITION OF portcullis.audit_events DEFAULT;

CREATE INDEX IF NOT EXISTS audit_events_time_idx     ON portcullis.audit_events ("timestamp", event_id);
CREATE INDEX IF NOT EXISTS audit_events_app_idx      ON portcullis.audit_events (app_id, "timestamp");
CREATE INDEX IF NOT EXISTS audit_events_actor_idx    ON portcullis.audit_events (actor_id, "timestamp");
-- "Who touched dataset X between T1 and T2": request events are resource_type 'dataset' with the name in resource_id.
-- The earlier (resource_type, "timestamp") index could not narrow to one dataset (resource_type has a handful of
-- values), so it is replaced; the partial index also skips admin and broker events.
DROP INDEX IF EXISTS portcullis.audit_events_dataset_idx;
CREATE INDEX IF NOT EXISTS audit_events_dataset_time_idx ON portcullis.audit_events (resource_id, "timestamp", event_id)
  WHERE resource_type = 'dataset';
-- The plain (resource_id, "timestamp") index is dropped: no query of ours filters on resource_id but the dataset
-- query above, whose partial index it competed with in the planner's choice, and each index costs every insert.
DROP INDEX IF EXISTS portcullis.audit_events_resource_idx;
CREATE INDEX IF NOT EXISTS audit_events_outcome_idx  ON portcullis.audit_events (outcome, "timestamp");
-- Not unique on purpose: the verifier must be able to see (and name) an inserted event that reuses a seq.
CREATE INDEX IF NOT EXISTS audit_events_chain_idx    ON portcullis.audit_events (chain_id, seq);

-- Row triggers on a partitioned table are cloned to every partition; TRUNCATE triggers are not, so
-- audit_ensure_partition adds one to each partition it creates.
CREATE OR REPLACE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON portcullis.audit_events
  FOR EACH ROW EXECUTE FUNCTION portcullis.audit_refuse_change();
CREATE OR REPLACE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON portcullis.audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION portcullis.audit_refuse_change();
CREATE OR REPLACE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON portcullis.audit_events_default
  FOR EACH STATEMENT EXECUTE FUNCTION portcullis.audit_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON portcullis.audit_events FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON portcullis.audit_events_default FROM PUBLIC;

-- Creates the partition holding the UTC month of month_of (no-op when it exists); returns its name, or NULL when
-- rows of that month already sit in the default partition (they cannot be moved: DELETE is refused).
CREATE OR REPLACE FUNCTION portcullis.audit_ensure_partition(month_of timestamptz) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
  lo_utc timestamp := date_trunc('month', month_of AT TIME ZONE 'UTC');
  hi_utc timestamp := lo_utc + interval '1 month';
  part   text := format('audit_events_%s', to_char(lo_utc, 'YYYY_MM'));
BEGIN
  PERFORM pg_advisory_xact_lock(7320461583140252);
  IF to_regclass(format('portcullis.%I', part)) IS NOT NULL THEN
    RETURN part;
  END IF;
  BEGIN
    EXECUTE format('CREATE TABLE portcullis.%I PARTITION OF portcullis.audit_events FOR VALUES FROM (%L) TO (%L)',
                   part, (lo_utc AT TIME ZONE 'UTC'), (hi_utc AT TIME ZONE 'UTC'));
  EXCEPTION WHEN check_violation THEN
    RAISE WARNING 'audit partition % not created: the default partition already holds rows of that month', part;
    RETURN NULL;
  END;
  EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON portcullis.%I '
                 'FOR EACH STATEMENT EXECUTE FUNCTION portcullis.audit_refuse_change()', part);
  EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON portcullis.%I FROM PUBLIC', part);
  RETURN part;
END
$fn$;

-- Signed checkpoints over the chain head (JWS); as append-only as the events.
CREATE TABLE IF NOT EXISTS portcullis.audit_checkpoints (
  chain_id    text        NOT NULL,
  seq         bigint      NOT NULL,
  head_hash   text        NOT NULL,
  event_count bigint      NOT NULL,
  created_at  timestamptz NOT NULL,
  kid         text,
  jws         text        NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE OR REPLACE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON portcullis.audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION portcullis.audit_refuse_change();
CREATE OR REPLACE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON portcullis.audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION portcullis.audit_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON portcullis.audit_checkpoints FROM PUBLIC;
