// The campaign counters' upkeep (docs/delivery.md, "Counters"). Triggers on `deliveries` write
// each backend's deltas under its own shard (its PostgreSQL pid), so counting never makes two
// connections wait on each other; over days of connections coming and going, a key gathers a row
// per backend that ever touched it. The tick folds them into shard 0 (no backend has pid 0), a
// batch at a time, skipping the rows a transaction in flight holds: the sums do not change.

import type { Sql } from '../store/pool.ts';

const FOLD_BATCH = 10_000;

/** Folds up to FOLD_BATCH counter rows of backends' shards into shard 0, and drops the folded
 *  rows that came to zero (a step's `queued` once it is all sent); returns how many keys it wrote. */
export async function foldCounterShards(sql: Sql): Promise<number> {
  const folded = await sql.exec(
    `WITH taken AS (
       SELECT campaign_id, step_id, channel, status, reason, shard FROM delivery_counts
        WHERE shard <> 0 LIMIT ${FOLD_BATCH} FOR UPDATE SKIP LOCKED),
     gone AS (
       DELETE FROM delivery_counts c USING taken t
        WHERE (c.campaign_id, c.step_id, c.channel, c.status, c.reason, c.shard)
            = (t.campaign_id, t.step_id, t.channel, t.status, t.reason, t.shard)
       RETURNING c.campaign_id, c.step_id, c.channel, c.status, c.reason, c.n)
     INSERT INTO delivery_counts AS c (campaign_id, step_id, channel, status, reason, shard, n)
     SELECT campaign_id, step_id, channel, status, reason, 0, sum(n) FROM gone
      GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
     ON CONFLICT (campaign_id, step_id, channel, status, reason, shard) DO UPDATE SET n = c.n + EXCLUDED.n`,
  );
  // Only the fold writes shard 0 (one tick at a time), so a zero there stays zero.
  await sql.exec('DELETE FROM delivery_counts WHERE shard = 0 AND n = 0');
  return folded;
}
