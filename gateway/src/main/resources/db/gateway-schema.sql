-- Portcullis's own state owned by the gateway module. Idempotent.
CREATE SCHEMA IF NOT EXISTS portcullis;

-- Every config change is a new version (DESIGN.md §1, §8): never updated in place.
CREATE TABLE IF NOT EXISTS portcullis.config_versions (
  version    bigserial PRIMARY KEY,
  yaml       text NOT NULL,
  author     text NOT NULL,
  reason     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Instance-level secrets generated on first start when none is configured (hash-mask key, demo secrets).
CREATE TABLE IF NOT EXISTS portcullis.instance_secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Admin API (DESIGN.md §8): each version keeps the per-entity diff against its parent and, for four-eyes changes,
-- the signed approval (JWS). parent is the version the change was based on; UNIQUE makes every admin write a
-- compare-and-set on the newest version, so two admins never overwrite each other. Versions stored before the
-- admin API (seed, config file) have no parent.
ALTER TABLE portcullis.config_versions ADD COLUMN IF NOT EXISTS parent bigint;
ALTER TABLE portcullis.config_versions ADD COLUMN IF NOT EXISTS diff jsonb;
ALTER TABLE portcullis.config_versions ADD COLUMN IF NOT EXISTS approval text;
CREATE UNIQUE INDEX IF NOT EXISTS config_versions_parent ON portcullis.config_versions (parent);

-- Four-eyes change requests: a change touching tier-2 apps or regulated/pii datasets waits here until a second admin
-- approves it. The resulting YAML is fixed at submission; if the config moved on meanwhile the request is superseded.
CREATE TABLE IF NOT EXISTS portcullis.change_requests (
  id              bigserial PRIMARY KEY,
  base_version    bigint NOT NULL,
  yaml            text NOT NULL,
  diff            jsonb NOT NULL,
  author          text NOT NULL,
  reason          text NOT NULL,
  status          text NOT NULL DEFAULT 'pending',
  created_at      timestamptz NOT NULL DEFAULT now(),
  decided_by      text,
  decided_at      timestamptz,
  decision_reason text,
  approval        text,
  applied_version bigint
);

-- Lifecycle notices already given (review reminders per day, auto-pause per review date), so several replicas
-- running the same check emit each one once.
CREATE TABLE IF NOT EXISTS portcullis.lifecycle_notices (
  app_id     text NOT NULL,
  kind       text NOT NULL,
  day        date NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, kind, day)
);
