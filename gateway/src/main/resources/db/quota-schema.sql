-- The quota stage's state (DESIGN.md §2 Quota). Idempotent.
CREATE SCHEMA IF NOT EXISTS portcullis;

-- Spend per app and calendar-aligned budget period, attributed to the app's cost centre. Replicas add to `units`
-- (never overwrite), so the row is the global total; `warned_at` is claimed once per period by the replica that
-- emits the soft-limit warning event.
CREATE TABLE IF NOT EXISTS portcullis.budget_spend (
  app_id       text             NOT NULL,
  period       text             NOT NULL,
  period_start timestamptz      NOT NULL,
  cost_center  text             NOT NULL DEFAULT '',
  units        double precision NOT NULL DEFAULT 0,
  warned_at    timestamptz,
  updated_at   timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (app_id, period, period_start)
);

CREATE INDEX IF NOT EXISTS budget_spend_cost_center ON portcullis.budget_spend (cost_center, period_start);
