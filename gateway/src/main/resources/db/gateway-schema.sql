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
