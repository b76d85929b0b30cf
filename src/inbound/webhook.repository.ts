// SQL for WhatsApp webhooks: the stored events (payload kept until processed), the deliveries
// their statuses move, template review statuses, and the inbound messages already acted on.
import { deliveryEventsFrom } from '../events/outbox.ts';
import type { Sql } from '../store/pool.ts';
import type { WhatsAppAddress } from '../subscribers/subscriber.repository.ts';
import { phoneRegion } from '../subscribers/subscriber.schema.ts';
import type { DeliveryState } from './webhook-status.ts';

export interface StoredEvent {
  readonly id: number;
  /** False when the same body was received before (a redelivery). */
  readonly isNew: boolean;
  readonly processed: boolean;
}

// jsonb refuses two things JSON allows: the NUL character and a lone UTF-16 surrogate (both
// written \uXXXX), and a text column refuses NUL too. Meta never sends them in practice, but a
// signed body holding one (in any value, key or `changes[].field`) would get a 503 and be
// redelivered for days: they are dropped (NUL) or replaced with U+FFFD. (Deleting "\u0000" from
// the text instead also cut a written backslash-u-0000 in half and broke the JSON.)
const JSONB_UNSAFE = /\\u0000|\\ud[89a-f]/i;

function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\0', '').toWellFormed();
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)]));
  return value;
}

/** The JSON text as jsonb takes it (unchanged unless it holds one of those escapes). */
export function jsonbText(json: string): string {
  return JSONB_UNSAFE.test(json) ? JSON.stringify(storable(JSON.parse(json))) : json;
}

/** Stores a verified body once per digest (storeEvents with one body). */
export async function storeEvent(
  sql: Sql,
  event: { digest: string; fields: readonly string[]; rawJson: string; now: Date },
): Promise<StoredEvent> {
  const [stored] = await storeEvents(sql, [event]);
  return stored!;
}

/**
 * Stores verified bodies once per digest, in their order: one INSERT for all of them (one
 * commit), then one SELECT for the digests already there. Two statements, not one: a concurrent
 * identical POST waits on the unique index, and only a fresh snapshot then sees the row the other
 * committed. The same body twice in one call is stored once: the first is new, the second a
 * redelivery of it.
 */
export async function storeEvents(
  sql: Sql,
  events: readonly { digest: string; fields: readonly string[]; rawJson: string; now: Date }[],
): Promise<StoredEvent[]> {
  // One jsonb array of the events, the bodies in it as they are (each is JSON already): a text[]
  // parameter would have pg escape every quote of every body.
  const rows = events.map(
    (e) =>
      `{"d":${JSON.stringify(e.digest)},"p":${jsonbText(e.rawJson)},"f":${JSON.stringify(storable(e.fields))},"t":${JSON.stringify(e.now.toISOString())}}`,
  );
  const inserted = await sql.query<{ id: number; digest: string }>(
    `INSERT INTO webhook_events (kind, payload_digest, payload, fields, received_at)
     SELECT 'whatsapp', e->>'d', e->'p', ARRAY(SELECT jsonb_array_elements_text(e->'f')), (e->>'t')::timestamptz
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, n)
      ORDER BY x.n
     ON CONFLICT (payload_digest) DO NOTHING RETURNING id, payload_digest AS digest`,
    [`[${rows.join(',')}]`],
  );
  const fresh = new Map(inserted.map((r) => [r.digest, r.id]));
  const others = [...new Set(events.map((e) => e.digest).filter((d) => !fresh.has(d)))];
  const existing = new Map(
    others.length === 0
      ? []
      : (
          await sql.query<{ id: number; digest: string; processed: boolean }>(
            `SELECT id, payload_digest AS digest, processed_at IS NOT NULL AS processed
               FROM webhook_events WHERE payload_digest = ANY($1::text[])`,
            [others],
          )
        ).map((r) => [r.digest, r]),
  );
  const seen = new Set<string>();
  return events.map((e) => {
    const id = fresh.get(e.digest);
    if (id !== undefined) {
      const isNew = !seen.has(e.digest);
      seen.add(e.digest);
      return { id, isNew, processed: false };
    }
    const row = existing.get(e.digest);
    if (!row) throw new Error('webhook event vanished between insert and select');
    return { id: row.id, isNew: false, processed: row.processed };
  });
}

/**
 * A page of events still to process, locked against a concurrent processor: `eventId` first
 * when it is still waiting, then the oldest others. A job whose event another page took finds
 * the ones after it instead, so a backlog is worked off a page at a time whichever job runs.
 */
export async function lockEventPage(
  sql: Sql,
  eventId: number,
  limit: number,
): Promise<{ id: number; payload: unknown }[]> {
  return sql.query<{ id: number; payload: unknown }>(
    `SELECT id, payload FROM webhook_events WHERE processed_at IS NULL
      ORDER BY id = $1 DESC, received_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [eventId, limit],
  );
}

/** Done: the payloads (phone numbers, texts) are dropped, the digests stay for dedupe. */
export async function finishEvents(sql: Sql, ids: readonly number[], now: Date): Promise<void> {
  await sql.exec(
    `UPDATE webhook_events SET payload = NULL, processed_at = $2 WHERE id = ANY($1::bigint[]) AND processed_at IS NULL`,
    [ids, now],
  );
}

export async function unprocessedEventIds(sql: Sql, receivedBefore: Date, limit: number): Promise<number[]> {
  const rows = await sql.query<{ id: number }>(
    `SELECT id FROM webhook_events WHERE processed_at IS NULL AND received_at < $1 ORDER BY received_at LIMIT $2`,
    [receivedBefore, limit],
  );
  return rows.map((r) => r.id);
}

/** Forgets dedupe keys older than Meta's redelivery window. */
export async function pruneWebhookRecords(sql: Sql, before: Date): Promise<number> {
  const events = await sql.exec(
    `DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND processed_at < $1`,
    [before],
  );
  const inbound = await sql.exec(`DELETE FROM whatsapp_inbound_messages WHERE handled_at < $1`, [before]);
  return events + inbound;
}

interface DeliveryRow {
  id: number;
  subscriber_id: string | null;
  whatsapp_user_id: string | null;
  phone: string | null;
  status: string;
  provider_message_id: string | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  failed_at: Date | null;
  error_code: string | null;
  error_detail: string | null;
}

/**
 * The WhatsApp deliveries a page of statuses may be about, locked in id order (so two pages
 * never wait on each other crosswise): those holding one of `wamids`, and those whose id one of
 * the statuses echoed in biz_opaque_callback_data (which one a status moves: statusTarget).
 * With each, its recipient and the BSUID stored with their WhatsApp channel. The channel is
 * checked as `channel || ''` so that it is a filter on the rows found by wamid and id, never an
 * index condition: before its first ANALYZE PostgreSQL took `channel = 'whatsapp'` for a
 * selective one and read the whole of `deliveries_once` for it, on every page (docs/delivery.md,
 * "Statuses from WhatsApp").
 */
export async function lockDeliveriesForStatuses(
  sql: Sql,
  wamids: readonly string[],
  deliveryIds: readonly number[],
): Promise<
  {
    id: number;
    state: DeliveryState;
    /** `phone`: where Meta's price of the message depends on (its country calling code). */
    recipient: { subscriberId: string; whatsappUserId: string | null; phone: string | null } | undefined;
  }[]
> {
  const rows = await sql.query<DeliveryRow>(
    `SELECT d.id, d.subscriber_id, sc.whatsapp_user_id, s.phone, d.status, d.provider_message_id, d.sent_at,
            d.delivered_at, d.read_at, d.failed_at, d.error_code, d.error_detail
       FROM deliveries d
       LEFT JOIN subscriber_channels sc ON sc.subscriber_id = d.subscriber_id AND sc.channel = 'whatsapp'
       LEFT JOIN subscribers s ON s.id = d.subscriber_id
      WHERE (d.provider_message_id = ANY($1::text[]) OR d.id = ANY($2::bigint[]))
        AND d.channel || '' = 'whatsapp'
      ORDER BY d.id
      FOR UPDATE OF d`,
    [wamids, deliveryIds],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    recipient:
      row.subscriber_id === null
        ? undefined
        : { subscriberId: row.subscriber_id, whatsappUserId: row.whatsapp_user_id, phone: row.phone },
    state: {
      status: row.status,
      providerMessageId: row.provider_message_id,
      sentAt: row.sent_at,
      deliveredAt: row.delivered_at,
      readAt: row.read_at,
      failedAt: row.failed_at,
      errorCode: row.error_code,
      errorDetail: row.error_detail,
    },
  }));
}

/** A column writeDeliveryStates sets: its name, its SQL type and where its value comes from. */
type WrittenColumn<T> = readonly [column: string, type: string, value: (from: T) => unknown];

/**
 * The columns a status writes, each with its SQL type and where its value comes from. A new
 * column a status carries (Meta's `pricing`, say) is one more entry here, a field of
 * DeliveryState and its rule in webhook-status.ts.
 */
const STATE_COLUMNS: readonly WrittenColumn<DeliveryState>[] = [
  ['status', 'text', (s) => s.status],
  ['provider_message_id', 'text', (s) => s.providerMessageId],
  ['sent_at', 'timestamptz', (s) => s.sentAt],
  ['delivered_at', 'timestamptz', (s) => s.deliveredAt],
  ['read_at', 'timestamptz', (s) => s.readAt],
  ['failed_at', 'timestamptz', (s) => s.failedAt],
  ['error_code', 'text', (s) => s.errorCode],
  ['error_detail', 'text', (s) => s.errorDetail],
];

/** Meta's `pricing` object of a delivery's message, as a status reports it. */
export interface PricingChange {
  readonly billable: boolean;
  readonly model: string | undefined;
  readonly category: string;
  readonly type: string | undefined;
  /** The recipient's country calling code ('' when unknown). */
  readonly callingCode: string;
}

/** The pricing columns, as STATE_COLUMNS; a row the page brings no pricing for keeps its own. */
const PRICING_COLUMNS: readonly WrittenColumn<PricingChange>[] = [
  ['pricing_billable', 'boolean', (p) => p.billable],
  ['pricing_model', 'text', (p) => p.model ?? null],
  ['pricing_category', 'text', (p) => p.category],
  ['pricing_type', 'text', (p) => p.type ?? null],
  ['pricing_calling_code', 'text', (p) => p.callingCode],
];

/** A delivery a page of statuses may write. */
export interface DeliveryWrite {
  readonly id: number;
  /** Its new state; undefined when the statuses did not move it (it keeps its own). */
  readonly state?: DeliveryState | undefined;
  /** Meta's pricing, as its latest status with one reports it (undefined: it keeps its own). */
  readonly pricing?: PricingChange | undefined;
}

/**
 * Writes a page of statuses in one statement, one row version per delivery: each row's new
 * state and Meta's pricing of its message, from unnest(...); then `delivery.<status>` for each event
 * (delivery id, status) in the order given, from the rows as written (so a failure's event
 * carries its error code). A row whose state did not move and whose pricing is the one it has is
 * not written: Meta repeats the same pricing on each status of a message. The priced counts
 * (whatsapp_pricing_counts) move by the pricing's change in the same statement, so they always
 * equal the priced deliveries. The rows are locked by the caller (lockDeliveriesForStatuses),
 * and each part of the statement reads them as they were before it (docs/delivery.md,
 * "Statuses from WhatsApp").
 */
export async function writeDeliveryStates(
  sql: Sql,
  rows: readonly DeliveryWrite[],
  events: readonly { readonly id: number; readonly status: string }[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const n = STATE_COLUMNS.length;
  const m = PRICING_COLUMNS.length;
  const state = STATE_COLUMNS.map(([column]) => column);
  const priced = PRICING_COLUMNS.map(([column]) => column);
  const types = [...STATE_COLUMNS, ...PRICING_COLUMNS].map(([, type], i) => `$${i + 3}::${type}[]`);
  // The pricing a row has, against the one the page brings (written when they differ).
  const repriced = `o.pricing_category IS NOT NULL
          AND (${priced.map((c) => `d.${c}`).join(', ')}) IS DISTINCT FROM (${priced.map((c) => `o.${c}`).join(', ')})`;
  const text = `
    WITH o AS (
      SELECT * FROM unnest($1::bigint[], $2::boolean[], ${types.join(', ')})
             AS o(id, moved, ${[...state, ...priced].join(', ')})),
    old AS (
      SELECT d.campaign_id, d.step_id, d.pricing_billable, d.pricing_category, d.pricing_calling_code,
             o.pricing_billable AS billable, o.pricing_category AS category, o.pricing_calling_code AS calling_code
        FROM deliveries d JOIN o ON o.id = d.id
       WHERE o.pricing_category IS NOT NULL AND d.kind <> 'test'
         AND (d.pricing_billable, d.pricing_category, d.pricing_calling_code)
             IS DISTINCT FROM (o.pricing_billable, o.pricing_category, o.pricing_calling_code)),
    moves AS (
      SELECT campaign_id, step_id, category, calling_code, billable, 1 AS d FROM old
      UNION ALL
      SELECT campaign_id, step_id, pricing_category, coalesce(pricing_calling_code, ''), pricing_billable, -1
        FROM old WHERE pricing_category IS NOT NULL AND pricing_billable IS NOT NULL),
    counted AS (
      INSERT INTO whatsapp_pricing_counts AS c (campaign_id, step_id, category, calling_code, billable, shard, n)
      SELECT campaign_id, step_id, category, calling_code, billable, pg_backend_pid(), sum(d)
        FROM moves GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
      ON CONFLICT (campaign_id, step_id, category, calling_code, billable, shard) DO UPDATE SET n = c.n + EXCLUDED.n),
    u AS (
      UPDATE deliveries d SET ${state.map((c) => `${c} = CASE WHEN o.moved THEN o.${c} ELSE d.${c} END`).join(', ')},
             ${priced.map((c) => `${c} = CASE WHEN o.pricing_category IS NULL THEN d.${c} ELSE o.${c} END`).join(', ')},
             updated_at = CASE WHEN o.moved THEN $${n + m + 3} ELSE d.updated_at END
        FROM o WHERE d.id = o.id AND (o.moved OR (${repriced}))
      RETURNING d.id, d.campaign_id, d.step_id, d.channel, d.subscriber_id, d.kind, d.error_code, d.status,
                d.skip_reason),
    ev AS (SELECT * FROM unnest($${n + m + 4}::bigint[], $${n + m + 5}::text[]) WITH ORDINALITY AS ev(id, status, n))
    ${deliveryEventsFrom('(SELECT u.*, ev.status AS event, ev.n FROM ev JOIN u ON u.id = ev.id ORDER BY ev.n)', "'delivery.' || r.event", `$${n + m + 3}`)}`;
  await sql.exec(text, [
    rows.map((r) => r.id),
    rows.map((r) => r.state !== undefined),
    ...STATE_COLUMNS.map(([, , value]) => rows.map((r) => (r.state ? value(r.state) : null))),
    ...PRICING_COLUMNS.map(([, , value]) => rows.map((r) => (r.pricing ? value(r.pricing) : null))),
    now,
    events.map((e) => e.id),
    events.map((e) => e.status),
  ]);
}

export async function upsertTemplateStatus(
  sql: Sql,
  t: { name: string; language: string; status: string; reason: string | undefined },
  now: Date,
): Promise<void> {
  await sql.exec(
    `INSERT INTO template_statuses (name, language, status, reason, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (name, language) DO UPDATE
       SET status = EXCLUDED.status, reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at`,
    [t.name, t.language, t.status, t.reason ?? null, now],
  );
}

export interface WhatsAppSender {
  readonly id: string;
  readonly locale: string;
  readonly whatsappState: string | null;
  /** The latest opt-in, opt-out or resume on WhatsApp by the person: a command sent before it is stale. */
  readonly lastChoiceAt: Date | null;
}

/** The subscriber a WhatsApp user is: by phone, or by the BSUID stored with their channel. */
export async function findWhatsAppSender(
  sql: Sql,
  who: WhatsAppAddress,
): Promise<WhatsAppSender | undefined> {
  const where =
    'phone' in who
      ? 's.phone = $1'
      : `s.id = (SELECT subscriber_id FROM subscriber_channels WHERE whatsapp_user_id = $1)`;
  const row = await sql.one<{
    id: string;
    locale: string;
    whatsapp_state: string | null;
    last_choice_at: Date | null;
  }>(
    `SELECT s.id, s.locale, sc.state AS whatsapp_state,
            (SELECT max(ce.occurred_at) FROM consent_events ce
              WHERE ce.subscriber_id = s.id AND ce.channel = 'whatsapp'
                AND ce.kind IN ('opt_in', 'opt_out', 'resume')) AS last_choice_at
       FROM subscribers s
       LEFT JOIN subscriber_channels sc ON sc.subscriber_id = s.id AND sc.channel = 'whatsapp'
      WHERE ${where}`,
    ['phone' in who ? who.phone : who.userId],
  );
  return row
    ? { id: row.id, locale: row.locale, whatsappState: row.whatsapp_state, lastChoiceAt: row.last_choice_at }
    : undefined;
}

/**
 * Keeps the BSUID and username Meta reported with the subscriber's WhatsApp channel (a subscriber
 * without one learns nothing). A BSUID names one person: another row holding it (a number that
 * changed hands) lets it go. An undefined username leaves the stored one; a username is only
 * shown, never used to match. Returns true when something changed.
 */
export async function learnWhatsAppIdentity(
  sql: Sql,
  subscriberId: string,
  identity: { readonly userId: string | undefined; readonly username?: string | undefined },
  now: Date,
): Promise<boolean> {
  if (identity.userId === undefined && identity.username === undefined) return false;
  if (identity.userId !== undefined)
    await sql.exec(
      `UPDATE subscriber_channels SET whatsapp_user_id = NULL, updated_at = $3
        WHERE whatsapp_user_id = $1 AND subscriber_id <> $2`,
      [identity.userId, subscriberId, now],
    );
  const changed = await sql.exec(
    `UPDATE subscriber_channels
        SET whatsapp_user_id = coalesce($2, whatsapp_user_id),
            whatsapp_username = coalesce($3, whatsapp_username),
            whatsapp_identity_at = $4
      WHERE subscriber_id = $1 AND channel = 'whatsapp'
        AND (whatsapp_user_id IS DISTINCT FROM coalesce($2, whatsapp_user_id)
             OR whatsapp_username IS DISTINCT FROM coalesce($3, whatsapp_username))`,
    [subscriberId, identity.userId ?? null, identity.username ?? null, now],
  );
  return changed > 0;
}

/** The person wrote to us at `at`: for 24 h their customer-service window is open, and a message
 *  to them does not count against the messaging limit. Never moves back. */
export async function noteInbound(sql: Sql, subscriberId: string, at: Date): Promise<void> {
  await sql.exec(
    `UPDATE subscriber_channels SET whatsapp_last_inbound_at = $2
      WHERE subscriber_id = $1 AND channel = 'whatsapp'
        AND (whatsapp_last_inbound_at IS NULL OR whatsapp_last_inbound_at < $2)`,
    [subscriberId, at],
  );
}

/** `user_changed_user_id`: the stored BSUID becomes the new one. Returns the subscriber, if known. */
export async function replaceWhatsAppUserId(
  sql: Sql,
  previousUserId: string,
  userId: string,
  now: Date,
): Promise<string | undefined> {
  const row = await sql.one<{ subscriber_id: string }>(
    `SELECT subscriber_id FROM subscriber_channels WHERE whatsapp_user_id = $1 FOR UPDATE`,
    [previousUserId],
  );
  if (!row) return undefined;
  await learnWhatsAppIdentity(sql, row.subscriber_id, { userId }, now);
  return row.subscriber_id;
}

export async function inboundHandled(sql: Sql, messageId: string): Promise<boolean> {
  return (
    (await sql.one(`SELECT 1 FROM whatsapp_inbound_messages WHERE message_id = $1`, [messageId])) !==
    undefined
  );
}

export async function recordInbound(sql: Sql, messageId: string, action: string, now: Date): Promise<void> {
  await sql.exec(
    `INSERT INTO whatsapp_inbound_messages (message_id, action, handled_at) VALUES ($1, $2, $3)
     ON CONFLICT (message_id) DO NOTHING`,
    [messageId, action, now],
  );
}

/** Records a template's re-categorisation (impending or done) or new quality rating. */
export async function recordTemplateChange(
  sql: Sql,
  t: {
    readonly name: string;
    readonly language: string;
    readonly change: 'category-impending' | 'category' | 'quality';
    readonly from: string | undefined;
    readonly to: string;
  },
  now: Date,
): Promise<void> {
  await sql.exec(
    `INSERT INTO template_statuses (name, language, status, updated_at, category, previous_category, category_change,
                                    category_changed_at, quality, quality_changed_at)
     VALUES ($1, $2, 'UNKNOWN', $3,
             CASE WHEN $4 = 'category' THEN $6 END, CASE WHEN $4 <> 'quality' THEN $5 END,
             CASE $4 WHEN 'category' THEN 'done' WHEN 'category-impending' THEN 'impending' END,
             CASE WHEN $4 <> 'quality' THEN $3::timestamptz END,
             CASE WHEN $4 = 'quality' THEN $6 END, CASE WHEN $4 = 'quality' THEN $3::timestamptz END)
     ON CONFLICT (name, language) DO UPDATE SET
       updated_at = EXCLUDED.updated_at,
       category = CASE WHEN $4 = 'category' THEN $6 ELSE template_statuses.category END,
       previous_category = CASE WHEN $4 <> 'quality' THEN coalesce($5, template_statuses.category) ELSE template_statuses.previous_category END,
       category_change = CASE $4 WHEN 'category' THEN 'done' WHEN 'category-impending' THEN 'impending'
                         ELSE template_statuses.category_change END,
       category_changed_at = CASE WHEN $4 <> 'quality' THEN $3::timestamptz ELSE template_statuses.category_changed_at END,
       quality = CASE WHEN $4 = 'quality' THEN $6 ELSE template_statuses.quality END,
       quality_changed_at = CASE WHEN $4 = 'quality' THEN $3::timestamptz ELSE template_statuses.quality_changed_at END`,
    [t.name, t.language, now, t.change, t.from ?? null, t.to],
  );
}

/**
 * `user_changed_number`: the subscriber Meta names (by the old number, else by BSUID) now has
 * `phone`. Consent and the channel's state stay as they are: it is the same person. Refused when
 * another subscriber has that number (a phone belongs to one subscriber).
 */
export async function changeSubscriberPhone(
  sql: Sql,
  who: { readonly oldPhone: string | undefined; readonly userId: string | undefined },
  phone: string,
): Promise<{ outcome: 'changed' | 'unchanged' | 'unknown-sender' | 'number-taken'; subscriberId?: string }> {
  const found = await sql.one<{ id: string; phone: string | null }>(
    `SELECT s.id, s.phone FROM subscribers s
      WHERE ($1::text IS NOT NULL AND s.phone = $1)
         OR ($2::text IS NOT NULL AND s.id = (SELECT subscriber_id FROM subscriber_channels
                                                WHERE channel = 'whatsapp' AND whatsapp_user_id = $2))
      ORDER BY s.phone = $1 DESC NULLS LAST LIMIT 1
      FOR UPDATE`,
    [who.oldPhone ?? null, who.userId ?? null],
  );
  if (!found) return { outcome: 'unknown-sender' };
  if (found.phone === phone) return { outcome: 'unchanged', subscriberId: found.id };
  const taken = await sql.one(`SELECT 1 FROM subscribers WHERE phone = $1 AND id <> $2`, [phone, found.id]);
  if (taken) return { outcome: 'number-taken', subscriberId: found.id };
  // The region follows the number: public holidays may come from it (docs/audiences.md).
  await sql.exec(`UPDATE subscribers SET phone = $2, phone_region = $3 WHERE id = $1`, [
    found.id,
    phone,
    phoneRegion(phone),
  ]);
  return { outcome: 'changed', subscriberId: found.id };
}
