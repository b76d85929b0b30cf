-- Up Migration

-- Keys of the admin API (docs/api.md, "Authentication"), made by `lastcall api-keys create`. The
-- key itself is shown once and never stored: `key_id` is its public part (looked up), `key_hash`
-- the SHA-256 of the whole key (compared in constant time). Keys are 256-bit random, so a fast hash
-- is enough. A revoked key keeps its row (who had access, and when); its name may be given again.
CREATE TABLE api_keys (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  scope        text NOT NULL CHECK (scope IN ('read', 'write')),
  key_id       text NOT NULL UNIQUE,
  key_hash     text NOT NULL,
  created_at   timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

-- Idempotency-Key of API writes, per caller (the key's name), kept 24 hours. The row is
-- inserted, in its own transaction, before the request runs: a concurrent replay finds it and
-- waits for the answer instead of acting twice. `status` NULL: the first request is running.
CREATE TABLE idempotency_keys (
  principal    text NOT NULL,
  key          text NOT NULL,
  fingerprint  text NOT NULL,           -- method, path and body digest of the first request
  status       integer,
  content_type text,
  body         text,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Outbound events (docs/api.md, "Outbound events") through a transactional outbox: the state change
-- and its event row are written in one transaction, so no event is lost between a commit and a
-- queue. `seq` orders them (per subscriber: delivery order). Ids only, never personal data.
--   queued_at    moved into the `events` queue by the drainer (NULL: still to drain)
--   round        bumped by `events replay`, so that a re-sent event gets a fresh job id
--   delivered_at the receiver answered 2xx; failed_at: given up after 24 hours
CREATE TABLE event_outbox (
  seq           bigserial PRIMARY KEY,
  id            uuid NOT NULL UNIQUE,
  type          text NOT NULL,
  subscriber_id text,
  data          jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL,
  round         integer NOT NULL DEFAULT 0,
  queued_at     timestamptz,
  attempts      integer NOT NULL DEFAULT 0,
  last_error    text,
  delivered_at  timestamptz,
  failed_at     timestamptz
);
CREATE INDEX event_outbox_undrained ON event_outbox (seq) WHERE queued_at IS NULL;
-- Order per subscriber: "is an earlier event of this subscriber still owed?"
CREATE INDEX event_outbox_owed ON event_outbox (subscriber_id, seq)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX event_outbox_created ON event_outbox (created_at);

-- Down Migration

DROP TABLE event_outbox;
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
