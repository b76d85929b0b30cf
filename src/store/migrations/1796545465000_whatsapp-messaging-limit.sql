-- Up Migration

-- Meta's portfolio messaging limit (docs/whatsapp.md, "Messaging limits"): at most N unique
-- people messaged outside a customer-service window in any rolling 24 h, all numbers and all
-- workers together. PostgreSQL is the record of who was messaged when, so that the limit holds
-- across workers, restarts and a lost Redis.

-- What the Graph API (or a webhook) last said about the WhatsApp account: one row.
CREATE TABLE whatsapp_account (
  id               boolean PRIMARY KEY DEFAULT true CHECK (id),
  messaging_limit  integer CHECK (messaging_limit > 0),   -- people per rolling 24 h; null: unlimited
  messaging_tier   text,                                  -- as Meta names it: TIER_250 … TIER_UNLIMITED
  limit_source     text,                                  -- graph, webhook
  limit_read_at    timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The people messaged outside a service window, each with their latest such message. A row
-- older than 24 h no longer counts (and is deleted by the gate). `recipient` is a subscriber id;
-- erasure replaces it with an anonymous key, so the person still counts until their 24 h pass.
CREATE TABLE whatsapp_people_messaged (
  recipient text PRIMARY KEY,
  last_at   timestamptz NOT NULL
);
CREATE INDEX whatsapp_people_messaged_last ON whatsapp_people_messaged (last_at);

-- The person's latest message to us: for 24 h after it, their customer-service window is open
-- and a message to them does not count against the limit.
ALTER TABLE subscriber_channels ADD COLUMN whatsapp_last_inbound_at timestamptz;

-- Down Migration

ALTER TABLE subscriber_channels DROP COLUMN whatsapp_last_inbound_at;
DROP TABLE whatsapp_people_messaged;
DROP TABLE whatsapp_account;
