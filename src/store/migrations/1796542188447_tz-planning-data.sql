-- Up Migration

-- Time-zone rules change while campaigns run (docs/timezones.md). A slot keeps, beside its UTC
-- instant, what it was planned from and with: its zone (already there), its local wall time in
-- that zone, the tzdata release of the process that planned it, and the moment it was planned
-- for (the campaign's start, a late sign-up, a resume), so that a worker with newer data can run
-- the same planning rules again. PostgreSQL only stores these: it never converts between zones
-- (its own tz data is not Node's).
--
-- Rows from before this migration have no version: a worker treats them as planned with data
-- older than its own, and planned at their created_at (what the insert set from its clock).
ALTER TABLE slots
  ADD COLUMN local_time text CHECK (local_time ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$'),
  ADD COLUMN tz_version text CHECK (tz_version ~ '^\d{4}[a-z]+$'),
  ADD COLUMN planned_at timestamptz;

-- The re-plan's look-up, once a minute in every worker: pending slots planned with older data.
-- Release names compare in byte order (COLLATE "C"), which is tzdata's order.
CREATE INDEX slots_pending_tz ON slots ((tz_version COLLATE "C"), campaign_id) WHERE state = 'pending';

-- One row per campaign and batch a worker re-planned: what moved, from which data to which.
CREATE TABLE tz_replans (
  id           bigserial PRIMARY KEY,
  campaign_id  text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  from_version text,                          -- null: slots from before versions were recorded
  to_version   text NOT NULL,
  slots        integer NOT NULL,              -- pending slots looked at
  moved        integer NOT NULL,              -- given another instant
  earlier      integer NOT NULL,              -- of which moved earlier
  cancelled    integer NOT NULL,              -- no longer called for under the new rules
  at           timestamptz NOT NULL
);
CREATE INDEX tz_replans_campaign ON tz_replans (campaign_id, id);

-- Each `lastcall work` process says which tz data it runs on, every minute, so that `doctor`
-- can warn when workers disagree (a rolling upgrade half done).
CREATE TABLE worker_heartbeats (
  worker_id  text PRIMARY KEY,                 -- host:pid:start
  host       text NOT NULL,
  pid        integer NOT NULL,
  tz_version text NOT NULL,
  node       text NOT NULL,
  started_at timestamptz NOT NULL,
  seen_at    timestamptz NOT NULL
);

-- Down Migration

DROP TABLE worker_heartbeats;
DROP TABLE tz_replans;
DROP INDEX slots_pending_tz;
ALTER TABLE slots DROP COLUMN planned_at, DROP COLUMN tz_version, DROP COLUMN local_time;
