// Set-based SQL for the CSV import: one statement per batch for each step (look-up, upsert,
// channel states, consent events), so 500 rows cost a handful of round trips, not 2,000.
import type { Channel } from '../planning/types.ts';
import type { Sql } from '../store/pool.ts';
import type { ChannelState } from './subscriber.repository.ts';
import type { SubscriberInput } from './subscriber.schema.ts';

export interface ExistingSubscriber {
  readonly id: string;
  readonly name: string | null;
  readonly phone: string | null;
  readonly email: string | null;
  readonly timezone: string;
  readonly tags: string[];
}

/** Subscribers holding any of these ids, phones or emails, locked for the batch. */
export function lockExisting(sql: Sql, rows: readonly SubscriberInput[]): Promise<ExistingSubscriber[]> {
  return sql.query<ExistingSubscriber>(
    // Three index look-ups rather than one OR, which the planner may turn into a full scan.
    `SELECT id, name, phone, email, timezone, tags FROM subscribers
      WHERE id IN (SELECT id FROM subscribers WHERE id = ANY($1::text[])
                   UNION SELECT id FROM subscribers WHERE phone = ANY($2::text[])
                   UNION SELECT id FROM subscribers WHERE email = ANY($3::text[]))
      ORDER BY id FOR UPDATE`,
    [rows.map((r) => r.id), rows.flatMap((r) => r.phone ?? []), rows.flatMap((r) => r.email ?? [])],
  );
}

export async function hasTombstones(sql: Sql): Promise<boolean> {
  return (await sql.one('SELECT 1 FROM tombstones LIMIT 1')) !== undefined;
}

export async function tombstonedHashes(sql: Sql, hashes: readonly string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await sql.query<{ hash: string }>('SELECT hash FROM tombstones WHERE hash = ANY($1::text[])', [
    hashes,
  ]);
  return new Set(rows.map((r) => r.hash));
}

/**
 * Inserts new subscribers and overwrites changed ones (never `done_at`: only the person says
 * they are done). Rows identical to what is stored are not touched. Returns what changed.
 */
export async function upsertSubscribers(
  sql: Sql,
  rows: readonly SubscriberInput[],
  now: number,
): Promise<Map<string, 'inserted' | 'updated'>> {
  if (rows.length === 0) return new Map();
  const result = await sql.query<{ id: string; inserted: boolean }>(
    `INSERT INTO subscribers (id, name, phone, email, locale, timezone, assistant, tags, created_at, updated_at)
     SELECT r.id, r.name, r.phone, r.email, r.locale, r.timezone, r.assistant,
            coalesce(string_to_array(nullif(r.tags, ''), ','), '{}'), $9, $9
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
            AS r(id, name, phone, email, locale, timezone, assistant, tags)
     ON CONFLICT (id) DO UPDATE
        SET name = EXCLUDED.name, phone = EXCLUDED.phone, email = EXCLUDED.email, locale = EXCLUDED.locale,
            timezone = EXCLUDED.timezone, assistant = EXCLUDED.assistant, tags = EXCLUDED.tags,
            updated_at = EXCLUDED.updated_at
      WHERE (subscribers.name, subscribers.phone, subscribers.email, subscribers.locale, subscribers.timezone,
             subscribers.assistant, subscribers.tags)
            IS DISTINCT FROM
            (EXCLUDED.name, EXCLUDED.phone, EXCLUDED.email, EXCLUDED.locale, EXCLUDED.timezone,
             EXCLUDED.assistant, EXCLUDED.tags)
     RETURNING id, (xmax = 0) AS inserted`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.name),
      rows.map((r) => r.phone ?? null),
      rows.map((r) => r.email ?? null),
      rows.map((r) => r.locale),
      rows.map((r) => r.timezone),
      rows.map((r) => r.assistant),
      rows.map((r) => sortedTags(r.tags).join(',')),
      new Date(now),
    ],
  );
  return new Map(result.map((r) => [r.id, r.inserted ? 'inserted' : 'updated']));
}

/** Tags are stored sorted, so the same tags in another order are no change. */
export function sortedTags(tags: readonly string[]): string[] {
  return [...tags].sort();
}

export interface ChannelConsent {
  readonly subscriberId: string;
  readonly channel: Channel;
  readonly state: ChannelState;
  readonly consentAt: Date | null;
  /** The latest opt-out recorded for this channel, if any. */
  readonly lastOptOut: Date | null;
}

export async function lockChannelConsent(sql: Sql, ids: readonly string[]): Promise<ChannelConsent[]> {
  return sql.query<ChannelConsent>(
    `SELECT c.subscriber_id AS "subscriberId", c.channel, c.state, c.consent_at AS "consentAt",
            (SELECT max(e.occurred_at) FROM consent_events e
              WHERE e.subscriber_id = c.subscriber_id AND e.channel = c.channel
                AND e.kind IN ('opt_out', 'bounce', 'complaint')) AS "lastOptOut"
       FROM subscriber_channels c WHERE c.subscriber_id = ANY($1::text[])
      ORDER BY c.subscriber_id, c.channel FOR UPDATE OF c`,
    [ids],
  );
}

/** Keys of import evidence already recorded: subscriber, channel, source, instant and address. */
export async function recordedImportEvidence(sql: Sql, ids: readonly string[]): Promise<Set<string>> {
  const rows = await sql.query<{
    subscriber_id: string;
    channel: Channel;
    source: string;
    occurred_at: Date;
    address: string | null;
  }>(
    `SELECT subscriber_id, channel, source, occurred_at, evidence->>'address' AS address
       FROM consent_events WHERE kind = 'import' AND subscriber_id = ANY($1::text[])`,
    [ids],
  );
  return new Set(
    rows.map((r) => evidenceKey(r.subscriber_id, r.channel, r.source, r.occurred_at.getTime(), r.address)),
  );
}

export function evidenceKey(
  id: string,
  channel: Channel,
  source: string,
  at: number,
  address: string | null,
): string {
  return JSON.stringify([id, channel, source, at, address]);
}

export interface ChannelWrite {
  readonly subscriberId: string;
  readonly channel: Channel;
  readonly state: ChannelState;
  readonly consentAt: number | null;
}

export async function writeChannels(sql: Sql, writes: readonly ChannelWrite[], now: number): Promise<void> {
  if (writes.length === 0) return;
  await sql.exec(
    `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at, created_at, updated_at)
     SELECT w.subscriber_id, w.channel, w.state, w.consent_at, $5, $5
       FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS w(subscriber_id, channel, state, consent_at)
     ON CONFLICT (subscriber_id, channel) DO UPDATE
        SET state = EXCLUDED.state, consent_at = EXCLUDED.consent_at, updated_at = EXCLUDED.updated_at`,
    [
      writes.map((w) => w.subscriberId),
      writes.map((w) => w.channel),
      writes.map((w) => w.state),
      writes.map((w) => (w.consentAt === null ? null : new Date(w.consentAt))),
      new Date(now),
    ],
  );
}

export interface EventWrite {
  readonly subscriberId: string;
  readonly channel: Channel;
  readonly kind: 'import' | 'opt_out';
  readonly source: string;
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly occurredAt: number;
}

export async function appendEvents(sql: Sql, events: readonly EventWrite[], now: number): Promise<void> {
  if (events.length === 0) return;
  await sql.exec(
    `INSERT INTO consent_events (subscriber_id, channel, kind, source, evidence, occurred_at, recorded_at)
     SELECT e.subscriber_id, e.channel, e.kind, e.source, e.evidence, e.occurred_at, $7
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[])
            AS e(subscriber_id, channel, kind, source, evidence, occurred_at)`,
    [
      events.map((e) => e.subscriberId),
      events.map((e) => e.channel),
      events.map((e) => e.kind),
      events.map((e) => e.source),
      events.map((e) => JSON.stringify(e.evidence)),
      events.map((e) => new Date(e.occurredAt)),
      new Date(now),
    ],
  );
}
