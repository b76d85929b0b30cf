-- Up Migration

-- Exact campaign figures without counting deliveries (docs/delivery.md, "Counters"). One row per
-- (campaign, step, channel, status, reason, shard) holds how many deliveries are in that state;
-- `reason` is the failure code of a failed row, the skip reason of a skipped one, the cause of an
-- unknown one, and '' otherwise. Triggers on `deliveries` keep the rows in the transaction of
-- every statement that inserts, moves or deletes deliveries, whichever code runs it, so the
-- counts always equal a count(*) … GROUP BY over the rows. Each statement adds its whole delta at
-- once. `shard` is the PostgreSQL backend that wrote the delta: two connections never update the
-- same counter row, so they never wait on each other nor deadlock over counts; reading sums the
-- shards (a few rows per key). Test sends are not counted.
CREATE TABLE delivery_counts (
  campaign_id text    NOT NULL,
  step_id     text    NOT NULL,
  channel     text    NOT NULL,
  status      text    NOT NULL,
  reason      text    NOT NULL,
  shard       integer NOT NULL,
  n           bigint  NOT NULL,
  PRIMARY KEY (campaign_id, step_id, channel, status, reason, shard)
);

-- The reason a row is counted under (stats.service.ts shows failures by code, skips by reason,
-- unknowns by cause).
CREATE FUNCTION delivery_count_reason(status text, error_code text, skip_reason text) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN status IN ('queued', 'sending', 'retrying', 'sent', 'delivered', 'read') THEN ''
    WHEN status = 'failed' THEN coalesce(error_code, 'none')
    WHEN status = 'skipped' THEN coalesce(skip_reason, 'none')
    ELSE coalesce(error_code, 'interrupted')
  END $$;

CREATE FUNCTION delivery_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO delivery_counts AS c (campaign_id, step_id, channel, status, reason, shard, n)
    SELECT campaign_id, step_id, channel, status, delivery_count_reason(status, error_code, skip_reason),
           pg_backend_pid(), count(*)
      FROM new_rows WHERE kind <> 'test'
     GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (campaign_id, step_id, channel, status, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO delivery_counts AS c (campaign_id, step_id, channel, status, reason, shard, n)
    SELECT campaign_id, step_id, channel, status, delivery_count_reason(status, error_code, skip_reason),
           pg_backend_pid(), -count(*)
      FROM old_rows WHERE kind <> 'test'
     GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (campaign_id, step_id, channel, status, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSE
    -- Only rows whose key changed move a count; a statement that changes none writes nothing.
    INSERT INTO delivery_counts AS c (campaign_id, step_id, channel, status, reason, shard, n)
    SELECT campaign_id, step_id, channel, status, reason, pg_backend_pid(), sum(d)
      FROM (SELECT n.campaign_id, n.step_id, n.channel, n.status,
                   delivery_count_reason(n.status, n.error_code, n.skip_reason) AS reason, 1 AS d
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.kind <> 'test'
               AND (n.status, delivery_count_reason(n.status, n.error_code, n.skip_reason), n.campaign_id, n.step_id, n.channel)
                   IS DISTINCT FROM
                   (o.status, delivery_count_reason(o.status, o.error_code, o.skip_reason), o.campaign_id, o.step_id, o.channel)
            UNION ALL
            SELECT o.campaign_id, o.step_id, o.channel, o.status,
                   delivery_count_reason(o.status, o.error_code, o.skip_reason), -1
              FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE o.kind <> 'test'
               AND (n.status, delivery_count_reason(n.status, n.error_code, n.skip_reason), n.campaign_id, n.step_id, n.channel)
                   IS DISTINCT FROM
                   (o.status, delivery_count_reason(o.status, o.error_code, o.skip_reason), o.campaign_id, o.step_id, o.channel)
           ) AS moves
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (campaign_id, step_id, channel, status, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_apply();
CREATE TRIGGER delivery_counts_update AFTER UPDATE ON deliveries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_apply();
CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_apply();

-- The deliveries already there, counted once (under shard 0, which no backend has).
INSERT INTO delivery_counts (campaign_id, step_id, channel, status, reason, shard, n)
SELECT campaign_id, step_id, channel, status, delivery_count_reason(status, error_code, skip_reason), 0, count(*)
  FROM deliveries WHERE kind <> 'test'
 GROUP BY 1, 2, 3, 4, 5;

-- What a slot not yet fanned out still expects (the "planned" column): the audience it was
-- planned for (a zone slot: the zone's eligible subscribers on its channel then; a personal
-- catch-up: one) less the rows its fan-out has made (fanned_out_count).
ALTER TABLE slots ADD COLUMN audience integer NOT NULL DEFAULT 0;
WITH open AS (
  SELECT sl.id, sl.zone, sl.channel, sl.subscriber_id,
         coalesce(ARRAY(SELECT jsonb_array_elements_text(c.definition->'audience'->'tags')), '{}') AS tags,
         coalesce(c.definition->'audience'->'where', '{}') AS "where"
    FROM slots sl JOIN campaigns c ON c.id = sl.campaign_id
   WHERE sl.state IN ('pending', 'fanning_out')),
audiences AS (SELECT DISTINCT tags, "where" FROM open WHERE subscriber_id IS NULL),
-- The audience rule (src/campaigns/audience.ts): one of the tags (any when none), and for every
-- attribute named in `where`, one of its values.
zone_counts AS (
  SELECT a.tags, a."where", s.timezone AS zone, sc.channel, count(*)::int AS n
    FROM audiences a, subscribers s JOIN subscriber_channels sc ON sc.subscriber_id = s.id
   WHERE sc.state = 'active' AND s.done_at IS NULL AND (cardinality(a.tags) = 0 OR s.tags && a.tags)
     AND NOT EXISTS (SELECT 1 FROM jsonb_each(a."where") w(name, vals)
                      WHERE NOT coalesce((s.attributes->>w.name) = ANY(ARRAY(SELECT jsonb_array_elements_text(w.vals))), false))
   GROUP BY 1, 2, 3, 4)
UPDATE slots sl
   SET audience = CASE WHEN o.subscriber_id IS NOT NULL THEN 1 ELSE coalesce(z.n, 0) END
  FROM open o LEFT JOIN zone_counts z ON z.tags = o.tags AND z."where" = o."where" AND z.zone = o.zone AND z.channel = o.channel
 WHERE sl.id = o.id;

-- Down Migration

ALTER TABLE slots DROP COLUMN audience;
DROP TRIGGER delivery_counts_delete ON deliveries;
DROP TRIGGER delivery_counts_update ON deliveries;
DROP TRIGGER delivery_counts_insert ON deliveries;
DROP FUNCTION delivery_counts_apply();
DROP FUNCTION delivery_count_reason(text, text, text);
DROP TABLE delivery_counts;
