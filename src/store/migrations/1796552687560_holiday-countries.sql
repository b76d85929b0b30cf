-- Up Migration

-- Public holidays per country (docs/audiences.md, "Public holidays"). A campaign may take a
-- subscriber's country from their phone number's region: `phone_region` keeps it ("FR"; '' for a
-- number without one, such as +800), computed by libphonenumber where the number is written (the
-- import's validation, sign-up, the API). Rows written before this column are filled in by
-- `migrate` after the migrations (src/store/phone-regions.ts), found through the partial index,
-- which is empty once they are.
ALTER TABLE subscribers ADD COLUMN phone_region text;
CREATE INDEX subscribers_phone_region_missing ON subscribers (id)
  WHERE phone IS NOT NULL AND phone_region IS NULL;

-- Two subscribers of one zone in different countries may need different instants around a
-- holiday, so a campaign with holidays plans its slots per (zone, country); `country` is '' for
-- every slot of a campaign without holidays (and for subscribers without a country), so those
-- slots are as before. The country joins the slot's identity. Upserts name the same expression:
--   ON CONFLICT (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''), country) DO …
ALTER TABLE slots ADD COLUMN country text NOT NULL DEFAULT '';
DROP INDEX slots_identity;
CREATE UNIQUE INDEX slots_identity
  ON slots (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''), country);

-- Down Migration

DELETE FROM slots WHERE country <> '';
DROP INDEX slots_identity;
CREATE UNIQUE INDEX slots_identity
  ON slots (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''));
ALTER TABLE slots DROP COLUMN country;
DROP INDEX subscribers_phone_region_missing;
ALTER TABLE subscribers DROP COLUMN phone_region;
