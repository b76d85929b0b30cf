-- Up Migration

-- What Meta said about each template beyond its review status (docs/whatsapp.md, "Template
-- categories"): its category and a re-categorisation (impending, then done: the
-- `template_category_update` webhook), and its quality rating (`message_template_quality_update`).
-- The console warns on the campaigns that use a template whose category changed or whose
-- quality dropped.
ALTER TABLE template_statuses
  ADD COLUMN category          text,
  ADD COLUMN previous_category text,
  ADD COLUMN category_change   text CHECK (category_change IN ('impending', 'done')),
  ADD COLUMN category_changed_at timestamptz,
  ADD COLUMN quality           text,
  ADD COLUMN quality_changed_at timestamptz;

-- Down Migration

ALTER TABLE template_statuses
  DROP COLUMN quality_changed_at,
  DROP COLUMN quality,
  DROP COLUMN category_changed_at,
  DROP COLUMN category_change,
  DROP COLUMN previous_category,
  DROP COLUMN category;
