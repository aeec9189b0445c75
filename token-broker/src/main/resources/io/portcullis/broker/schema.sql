-- token-broker tables (idempotent). Run as ONE simple-protocol query: PostgreSQL wraps a multi-statement query in
-- an implicit transaction, and the advisory lock serialises instances starting at the same time
-- (concurrent CREATE ... IF NOT EXISTS can otherwise fail on the catalog's unique index).
SELECT pg_advisory_xact_lock(4201577);

CREATE SCHEMA IF NOT EXISTS portcullis;

CREATE TABLE IF NOT EXISTS portcullis.signing_keys (
  kid             text        PRIMARY KEY,
  alg             text        NOT NULL,
  public_jwk      text        NOT NULL,
  private_jwk_enc bytea       NOT NULL,  -- AES-256-GCM under the key-encryption key, AAD = kid
  created_at      timestamptz NOT NULL,
  retired_at      timestamptz,           -- NULL = the active key
  publish_until   timestamptz            -- retired_at + longest token TTL + skew: leaves the JWKS after this
);
-- At most one active key, whatever number of broker instances rotate concurrently.
CREATE UNIQUE INDEX IF NOT EXISTS signing_keys_one_active ON portcullis.signing_keys ((true)) WHERE retired_at IS NULL;

CREATE TABLE IF NOT EXISTS portcullis.revoked_tokens (
  jti        text        PRIMARY KEY,
  client_id  text        NOT NULL,
  expires_at timestamptz NOT NULL,       -- the token's exp: the row is useless after it
  revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS revoked_tokens_expires_at ON portcullis.revoked_tokens (expires_at);

CREATE TABLE IF NOT EXISTS portcullis.paused_apps (
  client_id text        PRIMARY KEY,
  paused_at timestamptz NOT NULL DEFAULT now(),
  reason    text
);
