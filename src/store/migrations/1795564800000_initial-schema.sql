-- Up Migration

-- Lastcall's record (docs/architecture.md, "Principles"). PostgreSQL holds everything that
-- must survive a restart or a lost Redis: campaigns, subscribers and their consent, the due
-- slots and every delivery. All instants are timestamptz (UTC). Services pass their injected
-- clock's "now" explicitly; the column defaults below are only a fallback for bookkeeping.
--
-- Personal data (name, phone, email) lives only in `subscribers` and in consent evidence.
-- Everything else refers to subscribers by id.

-- updated_at follows every UPDATE unless the statement sets it itself (a service that passes
-- its own clock keeps its value).
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END;
$$;

-- ---------------------------------------------------------------------------------------------
-- Campaigns: one row per campaign file, keyed by the file's `id`.

CREATE TABLE campaigns (
  id           text PRIMARY KEY CHECK (id <> ''),
  name         text NOT NULL,
  definition   jsonb NOT NULL,                -- the parsed, validated campaign file
  source_dir   text,                          -- message templates folder; null = config/messages
  deadline     timestamptz NOT NULL,
  state        text NOT NULL DEFAULT 'draft'
               CHECK (state IN ('draft', 'running', 'paused', 'cancelled', 'finished')),
  started_at   timestamptz,
  paused_at    timestamptz,
  cancelled_at timestamptz,
  finished_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER campaigns_touch BEFORE UPDATE ON campaigns
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- The steps of `definition`, flattened so that slots can reference them.
CREATE TABLE campaign_steps (
  campaign_id text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  step_id     text NOT NULL,
  position    integer NOT NULL,               -- order in the file, 0-based
  before      text NOT NULL,                  -- ISO 8601 duration, as written (P7D, PT6H)
  channels    text[] NOT NULL
              CHECK (cardinality(channels) > 0 AND channels <@ ARRAY['whatsapp', 'email']),
  template    text NOT NULL,
  PRIMARY KEY (campaign_id, step_id),
  -- Deferred so that an update can renumber steps within one transaction.
  UNIQUE (campaign_id, position) DEFERRABLE INITIALLY DEFERRED
);

-- ---------------------------------------------------------------------------------------------
-- Subscribers and consent.

CREATE TABLE subscribers (
  id         text PRIMARY KEY CHECK (id <> ''),  -- the CSV id, or generated for a web sign-up
  name       text,
  phone      text UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),      -- E.164
  email      text UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),  -- stored lower-cased
  locale     text NOT NULL DEFAULT 'en',
  timezone   text NOT NULL,                   -- IANA zone; slots group subscribers by it
  assistant  text NOT NULL CHECK (assistant IN ('chatgpt', 'copilot', 'both')),
  tags       text[] NOT NULL DEFAULT '{}',
  done_at    timestamptz,                     -- said they are done: no more reminders
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
CREATE TRIGGER subscribers_touch BEFORE UPDATE ON subscribers
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- Fan-out pages through one zone's subscribers by keyset: WHERE timezone = $1 AND id > $cursor.
CREATE INDEX subscribers_zone_keyset ON subscribers (timezone, id);
-- audience.tags: tags && $1
CREATE INDEX subscribers_tags ON subscribers USING gin (tags);

-- Consent per channel. Only `active` may be messaged (checked at fan-out and again at send).
--   pending      waiting for the double opt-in (email confirmation link)
--   active       consent recorded (import evidence, confirmation, WhatsApp consent box)
--   unsubscribed the subscriber used an unsubscribe link
--   stopped      STOP reply on WhatsApp, or Meta's own marketing opt-out
CREATE TABLE subscriber_channels (
  subscriber_id text NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  channel       text NOT NULL CHECK (channel IN ('whatsapp', 'email')),
  state         text NOT NULL CHECK (state IN ('pending', 'active', 'unsubscribed', 'stopped')),
  consent_at    timestamptz,                  -- when the consent now in force was given
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscriber_id, channel),
  CHECK (state <> 'active' OR consent_at IS NOT NULL)  -- no one is messaged without consent
);
CREATE TRIGGER subscriber_channels_touch BEFORE UPDATE ON subscriber_channels
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- Fan-out: eligible subscribers of a channel.
CREATE INDEX subscriber_channels_active ON subscriber_channels (channel, subscriber_id)
  WHERE state = 'active';

-- The evidence of every opt-in, confirmation and opt-out (docs/subscribers.md, "Consent").
-- Append-only: a trigger refuses UPDATE. Rows are deleted only with their subscriber, by erasure
-- (subscribers forget), which is why there is no 'forget' kind: what remains of an erased person is
-- a tombstone.
CREATE TABLE consent_events (
  id            bigserial PRIMARY KEY,
  subscriber_id text NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  channel       text CHECK (channel IN ('whatsapp', 'email')),  -- null: about the subscriber
  kind          text NOT NULL CHECK (kind IN ('import', 'opt_in', 'confirm', 'opt_out', 'resume', 'done')),
  source        text NOT NULL,                -- consent_source, 'web', 'whatsapp', 'link', …
  evidence      jsonb NOT NULL DEFAULT '{}',  -- consent text, form fields, message id, …
  occurred_at   timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_subscriber ON consent_events (subscriber_id, occurred_at);

CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_events is append-only: event % cannot be updated', OLD.id
    USING ERRCODE = 'restrict_violation',
          HINT = 'Record a new consent event (opt_out, resume, …) instead of changing an old one.';
END;
$$;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
  FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

-- Erasure leaves a keyed HMAC of the normalised phone or email, so that a re-import of the same
-- person is refused without keeping who they were.
CREATE TABLE tombstones (
  hash       text PRIMARY KEY,
  kind       text NOT NULL CHECK (kind IN ('phone', 'email')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------------
-- Slots: what is due. A slot is (campaign, step, zone, channel, send instant) shared by every
-- eligible subscriber of that zone, so a campaign costs steps × zones × channels rows, not one
-- row or job per subscriber. Catch-up sends for late joiners are slots of their own: a zone-wide
-- one when a campaign starts (every existing subscriber joins at the same instant), a personal
-- one (subscriber_id set) for one subscriber who joins a running campaign.
--
-- Lifecycle: pending → fanning_out (claimed by a tick with FOR UPDATE SKIP LOCKED) → done;
-- cancelled when its campaign is. `cursor` is the keyset position (last subscriber id) reached
-- by fan-out, so a fan-out that crashed resumes instead of starting over.
CREATE TABLE slots (
  id               bigserial PRIMARY KEY,
  campaign_id      text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  step_id          text NOT NULL,
  zone             text NOT NULL,
  channel          text NOT NULL CHECK (channel IN ('whatsapp', 'email')),
  send_at          timestamptz NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('scheduled', 'catch-up')),
  subscriber_id    text REFERENCES subscribers (id) ON DELETE CASCADE,
  state            text NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'fanning_out', 'done', 'cancelled')),
  claimed_at       timestamptz,
  fanned_out_count integer NOT NULL DEFAULT 0,
  cursor           text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (campaign_id, step_id) REFERENCES campaign_steps (campaign_id, step_id) ON DELETE CASCADE,
  CHECK (subscriber_id IS NULL OR kind = 'catch-up')  -- only catch-ups are personal
);
CREATE TRIGGER slots_touch BEFORE UPDATE ON slots
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- One slot per identity, so that planning twice (restart, two ticks, re-start) inserts nothing
-- new. Upserts name the same expression:
--   ON CONFLICT (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, '')) DO …
CREATE UNIQUE INDEX slots_identity
  ON slots (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''));
-- The tick: WHERE state = 'pending' AND send_at <= $now (and stale 'fanning_out' claims).
CREATE INDEX slots_due ON slots (state, send_at);
CREATE INDEX slots_subscriber ON slots (subscriber_id) WHERE subscriber_id IS NOT NULL;

-- ---------------------------------------------------------------------------------------------
-- Deliveries: one row per message Lastcall meant to send. The unique key is the at-most-once
-- promise (docs/architecture.md, "Principles"): fan-out inserts with ON CONFLICT DO NOTHING on it,
-- and only a new row gets a send job. Erasure sets subscriber_id to null and keeps the anonymous
-- row for the stats; NULLs are distinct in the key, so erased rows never collide.
--
-- Status: queued → sending (claimed by a sender with a conditional update) → sent → delivered →
-- read, or retrying / failed / skipped. `unknown` is a row found in `sending` after a crash: the
-- provider may have accepted it, so it is never sent again. Webhooks never move a status back.
CREATE TABLE deliveries (
  id                  bigserial PRIMARY KEY,
  campaign_id         text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  step_id             text NOT NULL,
  subscriber_id       text REFERENCES subscribers (id) ON DELETE SET NULL,
  channel             text NOT NULL CHECK (channel IN ('whatsapp', 'email')),
  slot_id             bigint REFERENCES slots (id) ON DELETE SET NULL,
  kind                text NOT NULL CHECK (kind IN ('scheduled', 'catch-up', 'test')),
  status              text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'sending', 'retrying', 'sent', 'delivered', 'read',
                                        'failed', 'skipped', 'unknown')),
  attempts            integer NOT NULL DEFAULT 0,
  provider_message_id text,                   -- wamid.… or the SMTP Message-ID
  error_code          text,                   -- the provider's code (131026, 550, …)
  error_detail        text,
  skip_reason         text,                   -- opted_out, done, deadline_passed, …
  next_attempt_at     timestamptz,
  queued_at           timestamptz NOT NULL DEFAULT now(),
  sent_at             timestamptz,
  delivered_at        timestamptz,
  read_at             timestamptz,
  failed_at           timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT deliveries_once UNIQUE (campaign_id, step_id, subscriber_id, channel)
);
CREATE TRIGGER deliveries_touch BEFORE UPDATE ON deliveries
  FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- Webhook statuses find their delivery by the provider's message id.
CREATE INDEX deliveries_provider_message ON deliveries (provider_message_id)
  WHERE provider_message_id IS NOT NULL;
-- Recovery: rows in flight (queued with no job after a Redis loss, sending after a crash).
CREATE INDEX deliveries_in_flight ON deliveries (status, updated_at)
  WHERE status IN ('queued', 'sending', 'retrying');
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
CREATE INDEX deliveries_slot ON deliveries (slot_id);

-- Every attempt at a delivery, whatever its outcome: every attempt is recorded.
CREATE TABLE delivery_attempts (
  id          bigserial PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  outcome     text NOT NULL CHECK (outcome IN ('sent', 'retry', 'deferred', 'failed', 'skipped', 'unknown')),
  error_code  text,
  detail      text,
  at          timestamptz NOT NULL
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt);

-- ---------------------------------------------------------------------------------------------
-- WhatsApp side tables.

-- Meta's review status of each message template (templates status / push, webhooks).
CREATE TABLE template_statuses (
  name       text NOT NULL,
  language   text NOT NULL,
  status     text NOT NULL,                   -- APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …
  reason     text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, language)
);

-- Webhook payloads already processed, by digest of the raw body: Meta redelivers, and a
-- redelivery is acknowledged without being processed twice. No payload, so no personal data.
CREATE TABLE webhook_events (
  id             bigserial PRIMARY KEY,
  kind           text NOT NULL,
  payload_digest text NOT NULL UNIQUE,
  received_at    timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE webhook_events;
DROP TABLE template_statuses;
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE slots;
DROP TABLE tombstones;
DROP TABLE consent_events;
DROP FUNCTION consent_events_append_only();
DROP TABLE subscriber_channels;
DROP TABLE subscribers;
DROP TABLE campaign_steps;
DROP TABLE campaigns;
DROP FUNCTION touch_updated_at();
