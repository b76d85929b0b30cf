-- Up Migration

-- WhatsApp identities (docs/whatsapp.md, "Usernames and business-scoped user ids"). Since April
-- 2026 Meta's webhooks carry a business-scoped user id (BSUID, like `FR.1349120865530274191`),
-- and a user who adopted a username may write with no phone number at all. Lastcall learns the
-- BSUID (and the username, kept for display only) whenever it arrives together with a phone or
-- a message id it knows, and keeps it with the subscriber's WhatsApp channel, so that a STOP
-- that carries only the BSUID still finds the person, and an answer can go to `recipient`.
-- Erasure deletes the channel row, and these columns with it.
ALTER TABLE subscriber_channels
  ADD COLUMN whatsapp_user_id     text,
  ADD COLUMN whatsapp_username    text,
  ADD COLUMN whatsapp_identity_at timestamptz,  -- when Meta last told us either of them
  ADD CONSTRAINT subscriber_channels_identity_whatsapp
    CHECK ((whatsapp_user_id IS NULL AND whatsapp_username IS NULL) OR channel = 'whatsapp');
-- One person per BSUID: an inbound message that carries only the BSUID is matched on it.
CREATE UNIQUE INDEX subscriber_channels_whatsapp_user
  ON subscriber_channels (whatsapp_user_id) WHERE whatsapp_user_id IS NOT NULL;

-- Down Migration

DROP INDEX subscriber_channels_whatsapp_user;
ALTER TABLE subscriber_channels
  DROP CONSTRAINT subscriber_channels_identity_whatsapp,
  DROP COLUMN whatsapp_identity_at,
  DROP COLUMN whatsapp_username,
  DROP COLUMN whatsapp_user_id;
