-- Demo datasets for the three templates (DESIGN.md §2), ~50 rows each. Idempotent: run at every demo start.
CREATE SCHEMA IF NOT EXISTS demo;

CREATE TABLE IF NOT EXISTS demo.form_submissions (
  id              uuid PRIMARY KEY,
  form            text NOT NULL,
  submitter_email text NOT NULL,
  department      text NOT NULL,
  rating          integer,
  answer          text,
  submitted_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS demo.inventory_items (
  id             uuid PRIMARY KEY,
  owner_id       text NOT NULL,
  name           text NOT NULL,
  category       text NOT NULL,
  quantity       integer NOT NULL,
  unit_cost      numeric(10,2) NOT NULL,
  supplier_email text,
  location       text,
  attrs          jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz
);

-- Apps that may not see unit_cost (the demo's team-inventory grant denies it) can still create items: a column
-- hidden from a writer needs a default (idempotent, also for databases seeded before this line existed).
ALTER TABLE demo.inventory_items ALTER COLUMN unit_cost SET DEFAULT 0;

CREATE TABLE IF NOT EXISTS demo.hr_approvals (
  id              uuid PRIMARY KEY,
  requestor_id    text NOT NULL,
  requestor_email text NOT NULL,
  reviewer_id     text NOT NULL,
  position        text NOT NULL,
  salary_band     text NOT NULL,
  status          text NOT NULL DEFAULT 'requested',
  reason          text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS demo.hr_approvals_history (
  id          bigserial PRIMARY KEY,
  approval_id uuid NOT NULL,
  from_status text NOT NULL,
  to_status   text NOT NULL,
  actor_id    text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);

-- md5-derived UUIDs keep the rows the same on every machine, so the README's examples hold.
INSERT INTO demo.form_submissions (id, form, submitter_email, department, rating, answer, submitted_at)
SELECT md5('form-' || g)::uuid,
       (ARRAY['canteen-survey', 'it-satisfaction', 'offsite-signup'])[1 + g % 3],
       (ARRAY['ana', 'ben', 'chen', 'dara', 'eli', 'fay', 'gus'])[1 + g % 7] || g || '@corp.example',
       (ARRAY['finance', 'ops', 'sales', 'hr'])[1 + g % 4],
       1 + g % 5,
       'answer #' || g,
       timestamptz '2026-10-01 09:00:00+00' + g * interval '7 hours'
FROM generate_series(1, 50) AS g
ON CONFLICT (id) DO NOTHING;

INSERT INTO demo.inventory_items (id, owner_id, name, category, quantity, unit_cost, supplier_email, location, attrs, created_at)
SELECT md5('item-' || g)::uuid,
       (ARRAY['team-ops', 'team-sales', 'team-lab'])[1 + g % 3],
       (ARRAY['Laptop', 'Monitor', 'Desk', 'Chair', 'Headset', 'Projector', 'Router'])[1 + g % 7] || ' ' || g,
       (ARRAY['it', 'furniture', 'av'])[1 + g % 3],
       (g * 7) % 40,
       round((50 + (g * 37) % 900)::numeric, 2),
       (ARRAY['orders', 'sales', 'support'])[1 + g % 3] || '@' || (ARRAY['acme.example', 'globex.example', 'initech.example'])[1 + g % 3],
       'site-' || (1 + g % 4),
       jsonb_build_object('colour', (ARRAY['black', 'grey', 'white'])[1 + g % 3]),
       timestamptz '2026-09-01 08:00:00+00' + g * interval '1 day'
FROM generate_series(1, 50) AS g
ON CONFLICT (id) DO NOTHING;

INSERT INTO demo.hr_approvals (id, requestor_id, requestor_email, reviewer_id, position, salary_band, status, reason, created_at, updated_at)
SELECT md5('approval-' || g)::uuid,
       'emp-' || (100 + g),
       'employee' || (100 + g) || '@corp.example',
       (ARRAY['mgr-1', 'mgr-2'])[1 + g % 2],
       (ARRAY['Analyst', 'Engineer', 'Designer', 'Recruiter', 'Accountant'])[1 + g % 5],
       (ARRAY['B1', 'B2', 'B3', 'B4'])[1 + g % 4],
       (ARRAY['requested', 'reviewing', 'approved', 'rejected'])[1 + g % 4],
       'headcount request ' || g,
       timestamptz '2026-08-01 10:00:00+00' + g * interval '1 day',
       timestamptz '2026-08-01 10:00:00+00' + g * interval '1 day'
FROM generate_series(1, 50) AS g
ON CONFLICT (id) DO NOTHING;
