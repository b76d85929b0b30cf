// Sends one outbox event to EVENTS_URL (the `events` queue's job). At least once, in order per
// subscriber, for 24 hours:
// - An event waits while an earlier event of the same subscriber is still owed (neither
//   delivered nor given up): `waiting`; the worker delays the job and the earlier one, once
//   delivered, promotes it (`next`). So a receiver that is down keeps the order when it is back.
// - A refusal or no answer throws (the queue retries with backoff); 24 hours after the event was
//   queued it is given up (`failed_at`), and the next event of that subscriber may go.
// - A crash between the receiver's 2xx and the `delivered_at` update sends the event again: the
//   receiver drops repeats by `id`.
import type { Clock } from '../shared/clock.ts';
import type { Sql } from '../store/pool.ts';
import { postEvent } from './event-post.ts';

export const GIVE_UP_AFTER_MS = 24 * 3600_000;

export interface EventDeliveryDeps {
  readonly db: Sql;
  readonly target: { readonly url: string; readonly secret: string };
  readonly clock: Clock;
  readonly timeoutMs?: number;
}

export type EventOutcome =
  | { readonly outcome: 'delivered' | 'gave-up'; readonly next: { seq: number; round: number } | undefined }
  | { readonly outcome: 'waiting' | 'done-already' };

export class EventRefused extends Error {
  override readonly name = 'EventRefused';
}

interface Row {
  seq: number;
  id: string;
  type: string;
  subscriber_id: string;
  data: Record<string, unknown>;
  created_at: Date;
  queued_at: Date | null;
  delivered_at: Date | null;
  failed_at: Date | null;
}

const OWED = 'delivered_at IS NULL AND failed_at IS NULL';

async function nextOwed(db: Sql, row: Row): Promise<{ seq: number; round: number } | undefined> {
  return db.one<{ seq: number; round: number }>(
    `SELECT seq, round FROM event_outbox WHERE subscriber_id = $1 AND seq > $2 AND ${OWED}
      ORDER BY seq LIMIT 1`,
    [row.subscriber_id, row.seq],
  );
}

export async function deliverEvent(deps: EventDeliveryDeps, seq: number): Promise<EventOutcome> {
  const { db } = deps;
  const row = await db.one<Row>('SELECT * FROM event_outbox WHERE seq = $1', [seq]);
  if (!row || row.delivered_at || row.failed_at) return { outcome: 'done-already' };
  const earlier = await db.one(
    `SELECT 1 FROM event_outbox WHERE subscriber_id = $1 AND seq < $2 AND ${OWED} LIMIT 1`,
    [row.subscriber_id, seq],
  );
  if (earlier) return { outcome: 'waiting' };
  const now = deps.clock.now();
  if (now - (row.queued_at ?? row.created_at).getTime() > GIVE_UP_AFTER_MS) {
    await db.exec('UPDATE event_outbox SET failed_at = $2 WHERE seq = $1', [seq, new Date(now)]);
    return { outcome: 'gave-up', next: await nextOwed(db, row) };
  }
  const result = await postEvent(
    deps.target,
    { id: row.id, type: row.type, createdAt: row.created_at.toISOString(), data: row.data },
    now,
    deps.timeoutMs,
  );
  if (!result.ok) {
    await db.exec('UPDATE event_outbox SET attempts = attempts + 1, last_error = $2 WHERE seq = $1', [
      seq,
      result.reason,
    ]);
    throw new EventRefused(`EVENTS_URL refused event ${seq}: ${result.reason}`);
  }
  await db.exec(
    'UPDATE event_outbox SET attempts = attempts + 1, last_error = NULL, delivered_at = $2 WHERE seq = $1',
    [seq, new Date(deps.clock.now())],
  );
  return { outcome: 'delivered', next: await nextOwed(db, row) };
}
