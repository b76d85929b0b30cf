// `lastcall events replay --since ISO`: sends again every event created since an instant. Each
// row gets a new round (so a new job id: the old job may still be kept as completed), is owed
// again and waits for the drainer; order per subscriber holds as for new events. The receiver
// sees the same event ids again and may drop what it already has.
import { InvalidInput } from '../shared/errors.ts';
import type { Sql } from '../store/pool.ts';

export async function replayEvents(
  sql: Sql,
  since: number,
  now: number,
): Promise<{ events: number; since: string }> {
  if (!Number.isFinite(since) || since > now)
    throw new InvalidInput('Invalid --since', [
      { path: '--since', rule: 'must be an ISO 8601 instant with an offset or Z, not in the future' },
    ]);
  const events = await sql.exec(
    `UPDATE event_outbox SET round = round + 1, queued_at = NULL, delivered_at = NULL, failed_at = NULL,
            attempts = 0, last_error = NULL
      WHERE created_at >= $1`,
    [new Date(since)],
  );
  return { events, since: new Date(since).toISOString() };
}
