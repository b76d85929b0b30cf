// Moves outbox rows into the `events` queue (docs/architecture.md, "Principles"). Rows are
// claimed in `seq` order with FOR UPDATE SKIP LOCKED, so any number of workers drain at once
// without taking the same rows; the jobs are added before the rows are marked, in the same
// transaction: a crash in between leaves the rows to drain again, and the job id
// (event-<seq>-<round>) makes the second add a no-op while the first job exists.
// `requeueStale` puts back the jobs of rows queued long ago and still owed (a lost Redis).
import type { Queue } from 'bullmq';
import { jobFor } from '../queue/catalog.ts';
import type { Db } from '../store/pool.ts';

export const DRAIN_BATCH = 500;
/** Delivered or given-up events are kept this long (for `events replay`), then pruned. */
export const KEEP_EVENTS_MS = 30 * 24 * 3600_000;

type Pending = { seq: number; round: number };

function add(queue: Queue, rows: readonly Pending[]) {
  return queue.addBulk(rows.map(({ seq, round }) => jobFor('event', { seq, round })));
}

/** Queues up to `batch` undrained events; returns how many. */
export async function drainOutbox(db: Db, queue: Queue, now: number, batch = DRAIN_BATCH): Promise<number> {
  return db.tx(async (sql) => {
    const rows = await sql.query<Pending>(
      `SELECT seq, round FROM event_outbox WHERE queued_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batch],
    );
    if (rows.length === 0) return 0;
    await add(queue, rows);
    await sql.exec('UPDATE event_outbox SET queued_at = $2 WHERE seq = ANY($1::bigint[])', [
      rows.map((r) => r.seq),
      new Date(now),
    ]);
    return rows.length;
  });
}

/** Adds again the jobs of events queued before `before` and still owed; existing jobs stay. */
export async function requeueStale(
  db: Db,
  queue: Queue,
  before: number,
  batch = DRAIN_BATCH,
): Promise<number> {
  const rows = await db.query<Pending>(
    `SELECT seq, round FROM event_outbox
      WHERE queued_at < $1 AND delivered_at IS NULL AND failed_at IS NULL ORDER BY seq LIMIT $2`,
    [new Date(before), batch],
  );
  if (rows.length > 0) await add(queue, rows);
  return rows.length;
}

/** Deletes settled events older than KEEP_EVENTS_MS; with `unsent`, every older event (EVENTS_URL
 *  is off: nothing will send them, and a receiver set up later should not get a flood of old ones). */
export function pruneEvents(db: Db, now: number, unsent = false): Promise<number> {
  return db.exec(
    `DELETE FROM event_outbox WHERE created_at < $1
        AND ($2 OR delivered_at IS NOT NULL OR failed_at IS NOT NULL)`,
    [new Date(now - KEEP_EVENTS_MS), unsent],
  );
}
