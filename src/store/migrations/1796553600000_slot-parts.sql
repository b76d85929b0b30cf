-- Up Migration

-- Spreading a step's WhatsApp sends over the days before it (docs/whatsapp.md, "Spreading a step
-- over earlier days"): a spread step's zone slot becomes `parts` slots, part 0 at the step's own
-- time and each later part a day and more earlier. A subscriber belongs to part
-- md5(id) mod parts (src/planning/spread.ts), so fan-out filters on it. An unspread slot is part 0
-- of 1, so existing rows need nothing. The part joins the slot's identity.
ALTER TABLE slots
  ADD COLUMN part  smallint NOT NULL DEFAULT 0,
  ADD COLUMN parts smallint NOT NULL DEFAULT 1,
  ADD CONSTRAINT slots_part_range CHECK (parts >= 1 AND part >= 0 AND part < parts),
  ADD CONSTRAINT slots_part_zone CHECK (parts = 1 OR subscriber_id IS NULL);

DROP INDEX slots_identity;
-- Upserts name the same expression:
--   ON CONFLICT (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''), country, part) DO …
CREATE UNIQUE INDEX slots_identity
  ON slots (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''), country, part);

-- Down Migration

DELETE FROM slots WHERE part > 0;
DROP INDEX slots_identity;
CREATE UNIQUE INDEX slots_identity
  ON slots (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''), country);
ALTER TABLE slots
  DROP CONSTRAINT slots_part_zone,
  DROP CONSTRAINT slots_part_range,
  DROP COLUMN parts,
  DROP COLUMN part;
