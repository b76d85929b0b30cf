// Subscribers in keyset pages (API: GET /subscribers): ordered by id, the cursor is the last id
// seen. Each with its channel states; the profile (consent events, deliveries) is one more call.
import type { Sql } from '../store/pool.ts';
import { SUBSCRIBER_COLUMNS, type SubscriberRow } from './subscriber.repository.ts';
import type { Attributes } from './subscriber.schema.ts';

/** A subscriber's own fields as the API and `subscribers show` give them (the profile adds more). */
export interface SubscriberSummary {
  readonly id: string;
  readonly name: string | null;
  readonly phone: string | null;
  readonly email: string | null;
  readonly locale: string;
  readonly timezone: string;
  readonly attributes: Attributes;
  readonly tags: readonly string[];
  readonly doneAt: string | null;
  readonly createdAt: string;
}

export function subscriberSummary(r: SubscriberRow): SubscriberSummary {
  return {
    id: r.id,
    name: r.name,
    phone: r.phone,
    email: r.email,
    locale: r.locale,
    timezone: r.timezone,
    attributes: r.attributes,
    tags: r.tags,
    doneAt: r.done_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
  };
}

export interface SubscriberListItem extends SubscriberSummary {
  readonly channels: Readonly<Record<string, string>>;
}

/** `name=value` (or `attr.name=value`): a search for the subscribers with that attribute value. */
export function attributeQuery(text: string): { name: string; value: string } | undefined {
  const m = /^(?:attr\.)?([a-z][a-z0-9_]{0,39})\s*=\s*(.*)$/s.exec(text.trim());
  return m && m[2] !== '' ? { name: m[1]!, value: m[2]! } : undefined;
}

export async function listSubscribers(
  sql: Sql,
  opts: { cursor?: string; limit: number; attribute?: { name: string; value: string } },
): Promise<{ items: SubscriberListItem[]; nextCursor: string | null }> {
  // Containment (@>) is what the GIN index on attributes answers.
  const filter = opts.attribute
    ? {
        sql: 'AND s.attributes @> $3::jsonb',
        params: [JSON.stringify({ [opts.attribute.name]: opts.attribute.value })],
      }
    : { sql: '', params: [] };
  const rows = await sql.query<SubscriberRow & { channels: Record<string, string> | null }>(
    `SELECT ${SUBSCRIBER_COLUMNS},
            (SELECT jsonb_object_agg(c.channel, c.state) FROM subscriber_channels c WHERE c.subscriber_id = s.id)
              AS channels
       FROM subscribers s WHERE s.id > $1 ${filter.sql} ORDER BY s.id LIMIT $2`,
    [opts.cursor ?? '', opts.limit + 1, ...filter.params],
  );
  const items = rows.slice(0, opts.limit).map((r) => ({
    ...subscriberSummary(r),
    channels: r.channels ?? {},
  }));
  return { items, nextCursor: rows.length > opts.limit ? (items.at(-1)?.id ?? null) : null };
}
