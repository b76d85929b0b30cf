-- Up Migration

-- WhatsApp's estimated cost (docs/whatsapp.md, "Pricing"): Meta prices a message by the
-- recipient's country calling code and the category it reports. The calling code is taken from
-- the recipient's phone (libphonenumber) when the status with `pricing` arrives, and kept with
-- the delivery, so that it outlives an erasure. '' when it could not be told (no phone, and the
-- deliveries priced before this migration): those are priced at the table's `default`.
ALTER TABLE deliveries ADD COLUMN pricing_calling_code text;
UPDATE deliveries SET pricing_calling_code = '' WHERE pricing_category IS NOT NULL;

-- Priced messages per (campaign, step, category, calling code, billable), so that campaign stats
-- never counts deliveries (docs/delivery.md, "Counters"): written by the statement that stores the
-- pricing, in its transaction, with the delta between the delivery's old and new pricing. Sharded
-- by backend as delivery_counts is; reading sums the shards. Test sends are not counted.
CREATE TABLE whatsapp_pricing_counts (
  campaign_id  text    NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  step_id      text    NOT NULL,
  category     text    NOT NULL,
  calling_code text    NOT NULL,
  billable     boolean NOT NULL,
  shard        integer NOT NULL,
  n            bigint  NOT NULL,
  PRIMARY KEY (campaign_id, step_id, category, calling_code, billable, shard)
);
INSERT INTO whatsapp_pricing_counts (campaign_id, step_id, category, calling_code, billable, shard, n)
SELECT campaign_id, step_id, pricing_category, '', pricing_billable, 0, count(*)
  FROM deliveries
 WHERE pricing_category IS NOT NULL AND pricing_billable IS NOT NULL AND kind <> 'test'
 GROUP BY 1, 2, 3, 5;

-- Down Migration

DROP TABLE whatsapp_pricing_counts;
ALTER TABLE deliveries DROP COLUMN pricing_calling_code;
