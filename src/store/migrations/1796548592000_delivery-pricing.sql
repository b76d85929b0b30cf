-- Up Migration

-- WhatsApp's per-message pricing (docs/whatsapp.md, "Pricing"): the `pricing` object of the
-- delivery's status webhooks, as Meta last reported it (billable, pricing_model such as PMP,
-- category utility / marketing / authentication / service, type regular / free_customer_service /
-- free_entry_point). Adding nullable columns rewrites nothing.
ALTER TABLE deliveries
  ADD COLUMN pricing_billable boolean,
  ADD COLUMN pricing_model    text,
  ADD COLUMN pricing_category text,
  ADD COLUMN pricing_type     text;

-- Down Migration

ALTER TABLE deliveries
  DROP COLUMN pricing_type,
  DROP COLUMN pricing_category,
  DROP COLUMN pricing_model,
  DROP COLUMN pricing_billable;
