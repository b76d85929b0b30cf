-- Up Migration

-- Subscriber attributes (docs/audiences.md): text values under names [a-z][a-z0-9_]{0,39}, one
-- JSON object per subscriber. The shipped campaign's `assistant`, a column of its own until
-- now, becomes the attribute of that name; the model no longer knows about assistants.
--
-- Audiences filter on attributes (`audience.where`): the GIN index (jsonb_path_ops: the
-- containment and jsonpath operators @>, @@, smaller and faster than the default opclass) keeps
-- "attribute plan is pro or team" an index look-up over a million subscribers rather than a scan.
ALTER TABLE subscribers
  ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'::jsonb
      CONSTRAINT subscribers_attributes_object CHECK (jsonb_typeof(attributes) = 'object');
UPDATE subscribers SET attributes = jsonb_build_object('assistant', assistant);
ALTER TABLE subscribers DROP COLUMN assistant;
CREATE INDEX subscribers_attributes ON subscribers USING gin (attributes jsonb_path_ops);

-- Down Migration

DROP INDEX subscribers_attributes;
ALTER TABLE subscribers ADD COLUMN assistant text;
UPDATE subscribers
   SET assistant = CASE WHEN attributes->>'assistant' IN ('chatgpt', 'copilot', 'both')
                        THEN attributes->>'assistant' ELSE 'both' END;
ALTER TABLE subscribers ALTER COLUMN assistant SET NOT NULL,
  ADD CHECK (assistant IN ('chatgpt', 'copilot', 'both'));
ALTER TABLE subscribers DROP COLUMN attributes;
