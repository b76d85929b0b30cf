-- Up Migration

-- Bounces and complaints (docs/operations.md, "Bounces and complaints"). A permanent failure
-- reported after the SMTP server accepted a reminder (a DSN, RFC 3464), a spam complaint (an ARF
-- report, RFC 5965) or a WhatsApp error meaning the person cannot receive (131026) ends that
-- channel:
--   bounced     the address does not exist or refuses mail for good (DSN 5.x.x, WhatsApp 131026)
--   complained  the person reported a reminder as spam (ARF)
-- Like an opt-out, each is a consent-style event with its evidence (kind bounce / complaint).
ALTER TABLE subscriber_channels DROP CONSTRAINT subscriber_channels_state_check;
ALTER TABLE subscriber_channels ADD CONSTRAINT subscriber_channels_state_check
  CHECK (state IN ('pending', 'active', 'unsubscribed', 'stopped', 'bounced', 'complained'));
ALTER TABLE consent_events DROP CONSTRAINT consent_events_kind_check;
ALTER TABLE consent_events ADD CONSTRAINT consent_events_kind_check
  CHECK (kind IN ('import', 'opt_in', 'confirm', 'opt_out', 'resume', 'done', 'bounce', 'complaint'));

-- What became of a delivery after its provider accepted it, as reported later by the receiving
-- side: the figures of `campaign stats` (bounced, soft-bounced, complained). One row per delivery
-- and outcome: a DSN delivered twice, or a "delayed" DSN sent again after 4 h and 24 h, counts
-- once. Kept when the subscriber is erased (their deliveries stay, anonymised), so the evidence
-- holds no address: the diagnostic text is scrubbed, the rest are codes and host names.
CREATE TABLE delivery_reports (
  id          bigserial PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  outcome     text NOT NULL CHECK (outcome IN ('bounced', 'soft-bounced', 'complained')),
  source      text NOT NULL,                -- dsn, arf, whatsapp-error
  code        text,                         -- DSN Status (5.1.1), ARF Feedback-Type (abuse), 131026
  evidence    jsonb NOT NULL DEFAULT '{}',  -- reporting MTA, diagnostic code without addresses, …
  received_at timestamptz NOT NULL,
  UNIQUE (delivery_id, outcome)
);

-- Down Migration

DROP TABLE delivery_reports;
DELETE FROM consent_events WHERE kind IN ('bounce', 'complaint');
ALTER TABLE consent_events DROP CONSTRAINT consent_events_kind_check;
ALTER TABLE consent_events ADD CONSTRAINT consent_events_kind_check
  CHECK (kind IN ('import', 'opt_in', 'confirm', 'opt_out', 'resume', 'done'));
UPDATE subscriber_channels SET state = 'unsubscribed' WHERE state IN ('bounced', 'complained');
ALTER TABLE subscriber_channels DROP CONSTRAINT subscriber_channels_state_check;
ALTER TABLE subscriber_channels ADD CONSTRAINT subscriber_channels_state_check
  CHECK (state IN ('pending', 'active', 'unsubscribed', 'stopped'));
