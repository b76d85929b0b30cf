// The send path's gate for Meta's portfolio messaging limit (docs/whatsapp.md): before a page of
// WhatsApp messages goes out, decide in one PostgreSQL transaction, under one advisory lock for
// every worker, which of them may go. A person already messaged in the last 24 h costs nothing;
// a person whose customer-service window is open (they wrote to us in the last 24 h) does not
// count; anyone else counts as one more person, and once the window holds `limit` people they
// are held back (the caller records them `skipped`, reason `messaging-limit`). The rule is the
// one planning/messaging-limit.ts replays for `campaign start` and `plan`.
import { windowStart } from '../planning/messaging-limit.ts';
import type { Db, Sql } from '../store/pool.ts';

/** One lock for the whole portfolio (an arbitrary constant: "lastcall messaging limit"). */
const LOCK = 7_215_301_845;

export interface LimitEntry {
  readonly deliveryId: number;
  /** The subscriber id: the person the limit counts. */
  readonly person: string;
  /** Their latest message to us, if any: within 24 h, their service window is open. */
  readonly lastInboundAt: Date | null;
}

/** The limit in force: the operator's WHATSAPP_MESSAGING_LIMIT, else what Meta last said;
 *  undefined when neither is known (the gate then lets everything through). */
export async function limitInForce(
  sql: Sql,
  override: number | 'unlimited' | undefined,
): Promise<number | 'unlimited' | undefined> {
  if (override !== undefined) return override;
  const row = await sql.one<{ messaging_limit: number | null; limit_read_at: Date | null }>(
    'SELECT messaging_limit, limit_read_at FROM whatsapp_account',
  );
  if (!row || row.limit_read_at === null) return undefined;
  return row.messaging_limit ?? 'unlimited';
}

/** Records what Meta says the limit is (a tier turned into people, or unlimited). */
export async function storeMessagingLimit(
  sql: Sql,
  limit: { readonly tier: string; readonly people: number | 'unlimited' },
  source: 'graph' | 'webhook',
  now: Date,
): Promise<void> {
  await sql.exec(
    `INSERT INTO whatsapp_account (id, messaging_limit, messaging_tier, limit_source, limit_read_at, updated_at)
     VALUES (true, $1, $2, $3, $4, $4)
     ON CONFLICT (id) DO UPDATE SET messaging_limit = EXCLUDED.messaging_limit, messaging_tier = EXCLUDED.messaging_tier,
       limit_source = EXCLUDED.limit_source, limit_read_at = EXCLUDED.limit_read_at, updated_at = EXCLUDED.updated_at`,
    [limit.people === 'unlimited' ? null : limit.people, limit.tier, source, now],
  );
}

/** The delivery ids of `entries` that may go now; the others are held back by the limit. */
export async function admitToLimit(
  db: Db,
  entries: readonly LimitEntry[],
  limit: number | 'unlimited' | undefined,
  now: number,
): Promise<Set<number>> {
  const admitted = new Set<number>();
  if (entries.length === 0) return admitted;
  const open = (e: LimitEntry) => e.lastInboundAt !== null && e.lastInboundAt.getTime() > windowStart(now);
  return db.tx(async (sql) => {
    await sql.exec('SELECT pg_advisory_xact_lock($1)', [LOCK]);
    const since = new Date(windowStart(now));
    await sql.exec('DELETE FROM whatsapp_people_messaged WHERE last_at <= $1', [since]);
    const persons = [...new Set(entries.map((e) => e.person))];
    const known = new Set(
      (
        await sql.query<{ recipient: string }>(
          'SELECT recipient FROM whatsapp_people_messaged WHERE recipient = ANY($1::text[])',
          [persons],
        )
      ).map((r) => r.recipient),
    );
    let used =
      (await sql.one<{ n: number }>('SELECT count(*)::int AS n FROM whatsapp_people_messaged'))?.n ?? 0;
    const counted = new Set<string>();
    for (const e of entries) {
      if (open(e)) admitted.add(e.deliveryId);
      else if (known.has(e.person) || counted.has(e.person)) {
        admitted.add(e.deliveryId);
        counted.add(e.person);
      } else if (limit === undefined || limit === 'unlimited' || used < limit) {
        admitted.add(e.deliveryId);
        counted.add(e.person);
        used++;
      }
    }
    if (counted.size > 0)
      await sql.exec(
        `INSERT INTO whatsapp_people_messaged (recipient, last_at) SELECT unnest($1::text[]), $2
         ON CONFLICT (recipient) DO UPDATE SET last_at = EXCLUDED.last_at`,
        [[...counted], new Date(now)],
      );
    return admitted;
  });
}

/** The people messaged in the 24 h before `now`, with their latest message (for the plan's replay). */
export async function peopleInWindow(sql: Sql, now: number): Promise<Map<string, number>> {
  const rows = await sql.query<{ recipient: string; last_at: Date }>(
    'SELECT recipient, last_at FROM whatsapp_people_messaged WHERE last_at > $1 ORDER BY last_at',
    [new Date(windowStart(now))],
  );
  return new Map(rows.map((r) => [r.recipient, r.last_at.getTime()]));
}
