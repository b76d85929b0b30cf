-- Up Migration

-- The number's throughput level (Graph API `throughput.level`: STANDARD is 80 messages per second,
-- HIGH 1,000) and what Meta last said about its quality (`phone_number_quality_update`: the
-- event, such as FLAGGED or DOWNGRADE, and when), beside the messaging limit (docs/whatsapp.md).
ALTER TABLE whatsapp_account
  ADD COLUMN throughput_level   text,
  ADD COLUMN throughput_read_at timestamptz,
  ADD COLUMN quality_event      text,
  ADD COLUMN quality_event_at   timestamptz;

-- Down Migration

ALTER TABLE whatsapp_account
  DROP COLUMN quality_event_at,
  DROP COLUMN quality_event,
  DROP COLUMN throughput_read_at,
  DROP COLUMN throughput_level;
