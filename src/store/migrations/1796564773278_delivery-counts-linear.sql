-- Up Migration

-- The counters' update trigger (docs/delivery.md, "Counters") computed a statement's moves by
-- joining its old and new rows on id. Transition tables have no index and no statistics, so
-- PostgreSQL joined them with a nested loop: an UPDATE of 2,800 rows spent 4.8 s in the trigger
-- (auto_explain), and a page of 5,000 rows (fan-out, recovery) 25 million comparisons per side.
-- The same delta, by key, is the new rows' count less the old rows' count: two scans and a
-- hash aggregate, linear in the rows.
CREATE OR REPLACE FUNCTION delivery_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- A key's delta is how many new rows have it less how many old rows had it: a row whose key
    -- did not change adds 1 and takes 1 from the same key, and keys whose moves cancel write
    -- nothing. Two aggregates, no join: joining the transition tables (which have no index) on id
    -- was a nested loop, quadratic in the rows of the statement (docs/delivery.md, "Counters").
    INSERT INTO delivery_counts AS c (campaign_id, step_id, channel, status, reason, shard, n)
    SELECT campaign_id, step_id, channel, status, reason, pg_backend_pid(), sum(d)
      FROM (SELECT campaign_id, step_id, channel, status,
                   delivery_count_reason(status, error_code, skip_reason) AS reason, 1 AS d
              FROM new_rows WHERE kind <> 'test'
            UNION ALL
            SELECT campaign_id, step_id, channel, status,
                   delivery_count_reason(status, error_code, skip_reason), -1
              FROM old_rows WHERE kind <> 'test'
           ) AS moves
     GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (campaign_id, step_id, channel, status, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END $$;

-- Down Migration

CREATE OR REPLACE FUNCTION delivery_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
