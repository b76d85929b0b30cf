-- Up Migration

-- WhatsApp webhooks are verified and stored by `serve`, then processed off the request by the
-- `webhooks` queue, whose jobs carry only `{eventId}` (no personal data in Redis). The payload
-- waits here, in PostgreSQL, and the processor sets it to NULL once it is done, so the phone
-- numbers and message texts it holds do not linger. A row whose payload is NULL is a dedupe key
-- only (digest of the raw body: a redelivery is acknowledged without being processed twice).
ALTER TABLE webhook_events
  ADD COLUMN payload      jsonb,
  ADD COLUMN fields       text[] NOT NULL DEFAULT '{}',   -- distinct changes[].field, for operators
  ADD COLUMN processed_at timestamptz,
  ADD CONSTRAINT webhook_events_payload_until_processed
    CHECK (processed_at IS NULL OR payload IS NULL);
-- What is still to do: re-queued by the webhook worker's sweep after a lost Redis or a failed add.
CREATE INDEX webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL;
-- Pruning of processed rows older than Meta's redelivery window (7 days).
CREATE INDEX webhook_events_processed ON webhook_events (processed_at) WHERE processed_at IS NOT NULL;

-- Inbound WhatsApp messages already acted on, by Meta's message id (wamid). Meta may redeliver a
-- message inside a different batch (a different body, so a different digest): this key is what
-- keeps a STOP or a FAIT from being answered twice. No phone number, no text.
CREATE TABLE whatsapp_inbound_messages (
  message_id text PRIMARY KEY,
  action     text NOT NULL,           -- stop, start, done, none, stale, unknown-sender
  handled_at timestamptz NOT NULL
);
CREATE INDEX whatsapp_inbound_messages_handled ON whatsapp_inbound_messages (handled_at);

-- Down Migration

DROP TABLE whatsapp_inbound_messages;
DROP INDEX webhook_events_processed;
DROP INDEX webhook_events_unprocessed;
ALTER TABLE webhook_events
  DROP CONSTRAINT webhook_events_payload_until_processed,
  DROP COLUMN processed_at,
  DROP COLUMN fields,
  DROP COLUMN payload;
