// SQL for subscribers, their channel consent and their consent events. Every function takes a
// `Sql`, so the subscription service runs them inside one transaction; the `lock` variants take
// row locks (FOR UPDATE) so that two sign-ups or opt-outs for one person serialise.
import { createHmac } from 'node:crypto';
import type { Channel, Locale } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import { type Attributes, phoneRegion } from './subscriber.schema.ts';

export type ChannelState = 'pending' | 'active' | 'unsubscribed' | 'stopped' | 'bounced' | 'complained';
export type ConsentKind =
  | 'import'
  | 'opt_in'
  | 'confirm'
  | 'opt_out'
  | 'resume'
  | 'done'
  | 'bounce'
  | 'complaint';
export type TombstoneKind = 'phone' | 'email';

/** One row of `subscribers`, every column, as pg returns it: the one type every query of the
 *  table reads into (a query that selects fewer columns picks from it). */
export interface SubscriberRow {
  readonly id: string;
  readonly name: string | null;
  readonly phone: string | null;
  readonly email: string | null;
  readonly locale: string;
  readonly timezone: string;
  readonly attributes: Attributes;
  readonly tags: string[];
  readonly done_at: Date | null;
  readonly created_at: Date;
  readonly updated_at: Date;
}

export interface ChannelRow {
  readonly channel: Channel;
  readonly state: ChannelState;
  readonly consent_at: Date | null;
}

export interface ConsentEvent {
  readonly subscriberId: string;
  /** null: about the subscriber as a whole (done). */
  readonly channel: Channel | null;
  readonly kind: ConsentKind;
  readonly source: string;
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Epoch milliseconds. */
  readonly occurredAt: number;
}

export interface SubscriberFields {
  readonly name: string;
  readonly phone: string | null;
  readonly email: string | null;
  readonly locale: Locale;
  readonly timezone: string;
  /** Set on top of the stored attributes (a value) or removed from them (null). */
  readonly attributes: Readonly<Record<string, string | null>>;
}

/** Every column of `subscribers`, in SubscriberRow's order. */
export const SUBSCRIBER_COLUMNS =
  'id, name, phone, email, locale, timezone, attributes, tags, done_at, created_at, updated_at';

/** Every subscriber holding this phone or this email (0, 1 or 2 rows), locked. */
export function lockByPhoneOrEmail(
  sql: Sql,
  phone: string | null,
  email: string | null,
): Promise<SubscriberRow[]> {
  return sql.query<SubscriberRow>(
    `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE phone = $1 OR email = $2 ORDER BY id FOR UPDATE`,
    [phone, email],
  );
}

export function lockById(sql: Sql, id: string): Promise<SubscriberRow | undefined> {
  return sql.one<SubscriberRow>(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = $1 FOR UPDATE`, [
    id,
  ]);
}

/** Read without a lock: for pages that show a state and change nothing. */
export function findById(sql: Sql, id: string): Promise<SubscriberRow | undefined> {
  return sql.one<SubscriberRow>(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = $1`, [id]);
}

export function lockByPhone(sql: Sql, phone: string): Promise<SubscriberRow | undefined> {
  return sql.one<SubscriberRow>(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE phone = $1 FOR UPDATE`, [
    phone,
  ]);
}

/** How Meta names a WhatsApp user: by phone (E.164) when it gives one, else by the
 *  business-scoped user id (BSUID) stored with their WhatsApp channel. */
export type WhatsAppAddress = { readonly phone: string } | { readonly userId: string };

export function lockByWhatsApp(sql: Sql, who: WhatsAppAddress): Promise<SubscriberRow | undefined> {
  if ('phone' in who) return lockByPhone(sql, who.phone);
  return sql.one<SubscriberRow>(
    `SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers
      WHERE id = (SELECT subscriber_id FROM subscriber_channels WHERE whatsapp_user_id = $1)
        FOR UPDATE`,
    [who.userId],
  );
}

/** $1 id, $2…$7 the profile, $8 now, $9 the phone's region. */
function profileParams(id: string, f: SubscriberFields, now: number): unknown[] {
  return [
    id,
    f.name,
    f.phone,
    f.email,
    f.locale,
    f.timezone,
    JSON.stringify(f.attributes),
    new Date(now),
    phoneRegion(f.phone),
  ];
}

export async function insertSubscriber(
  sql: Sql,
  id: string,
  fields: SubscriberFields,
  now: number,
): Promise<void> {
  await sql.exec(
    `INSERT INTO subscribers (id, name, phone, email, locale, timezone, attributes, created_at, updated_at, phone_region)
     VALUES ($1, $2, $3, $4, $5, $6, jsonb_strip_nulls($7::jsonb), $8, $8, $9)`,
    profileParams(id, fields, now),
  );
}

/** Overwrites the profile and clears done_at: signing up again asks for reminders again. */
export async function updateSubscriber(
  sql: Sql,
  id: string,
  fields: SubscriberFields,
  now: number,
): Promise<void> {
  await sql.exec(
    `UPDATE subscribers SET name = $2, phone = $3, email = $4, locale = $5, timezone = $6,
            attributes = jsonb_strip_nulls(attributes || $7::jsonb), done_at = NULL, updated_at = $8,
            phone_region = $9
      WHERE id = $1`,
    profileParams(id, fields, now),
  );
}

/** Adds a tag unless the subscriber has it (a sign-up on a campaign's page joins its audience). */
export async function addTag(sql: Sql, id: string, tag: string): Promise<void> {
  await sql.exec(
    'UPDATE subscribers SET tags = array_append(tags, $2) WHERE id = $1 AND NOT ($2 = ANY(tags))',
    [id, tag],
  );
}

/** Sets done_at unless already set; true when this call set it. */
export async function markDone(sql: Sql, id: string, now: number): Promise<boolean> {
  return (
    (await sql.exec(
      'UPDATE subscribers SET done_at = $2, updated_at = $2 WHERE id = $1 AND done_at IS NULL',
      [id, new Date(now)],
    )) > 0
  );
}

export async function lockChannels(sql: Sql, id: string): Promise<Map<Channel, ChannelRow>> {
  const rows = await sql.query<ChannelRow>(
    'SELECT channel, state, consent_at FROM subscriber_channels WHERE subscriber_id = $1 FOR UPDATE',
    [id],
  );
  return new Map(rows.map((r) => [r.channel, r]));
}

/** Upserts one channel's state. `consentAt` undefined keeps the stored consent time. */
export async function setChannel(
  sql: Sql,
  id: string,
  channel: Channel,
  state: ChannelState,
  consentAt: number | null | undefined,
  now: number,
): Promise<void> {
  await sql.exec(
    `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (subscriber_id, channel) DO UPDATE
       SET state = EXCLUDED.state,
           consent_at = CASE WHEN $6 THEN subscriber_channels.consent_at ELSE EXCLUDED.consent_at END,
           updated_at = EXCLUDED.updated_at`,
    [
      id,
      channel,
      state,
      consentAt == null ? null : new Date(consentAt),
      new Date(now),
      consentAt === undefined,
    ],
  );
}

export async function appendConsentEvent(sql: Sql, event: ConsentEvent): Promise<void> {
  await sql.exec(
    `INSERT INTO consent_events (subscriber_id, channel, kind, source, evidence, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      event.subscriberId,
      event.channel,
      event.kind,
      event.source,
      JSON.stringify(event.evidence),
      new Date(event.occurredAt),
    ],
  );
}

/** True if the subscriber ever gave consent for the channel (opt-in, import, confirmation, resume). */
export async function everConsented(sql: Sql, id: string, channel: Channel): Promise<boolean> {
  const row = await sql.one(
    `SELECT 1 FROM consent_events
      WHERE subscriber_id = $1 AND channel = $2 AND kind IN ('opt_in', 'import', 'confirm', 'resume')
      LIMIT 1`,
    [id, channel],
  );
  return row !== undefined;
}

// Tombstones: what erasure leaves of a person is a keyed HMAC of their normalised phone (E.164)
// or email (lower-cased), so the same address can be recognised without being kept.

export function tombstoneHash(secretKey: string, kind: TombstoneKind, value: string): string {
  const normalised = kind === 'email' ? value.trim().toLowerCase() : value.trim();
  return createHmac('sha256', secretKey).update(`lastcall-tombstone-v1:${kind}:${normalised}`).digest('hex');
}

export interface Addresses {
  readonly phone?: string | null | undefined;
  readonly email?: string | null | undefined;
}

function hashesOf(secretKey: string, addresses: Addresses): Map<string, TombstoneKind> {
  const hashes = new Map<string, TombstoneKind>();
  if (addresses.phone) hashes.set(tombstoneHash(secretKey, 'phone', addresses.phone), 'phone');
  if (addresses.email) hashes.set(tombstoneHash(secretKey, 'email', addresses.email), 'email');
  return hashes;
}

/** Which of these addresses belong to an erased person (empty when none). The importer refuses
 * those rows; a web sign-up is the person themselves and clears them instead. */
export async function isTombstoned(
  sql: Sql,
  secretKey: string,
  addresses: Addresses,
): Promise<TombstoneKind[]> {
  const hashes = hashesOf(secretKey, addresses);
  if (hashes.size === 0) return [];
  const rows = await sql.query<{ hash: string }>('SELECT hash FROM tombstones WHERE hash = ANY($1)', [
    [...hashes.keys()],
  ]);
  return rows.map((r) => hashes.get(r.hash)!).sort();
}

export async function clearTombstones(
  sql: Sql,
  secretKey: string,
  addresses: Addresses,
): Promise<TombstoneKind[]> {
  const hashes = hashesOf(secretKey, addresses);
  if (hashes.size === 0) return [];
  const rows = await sql.query<{ hash: string }>(
    'DELETE FROM tombstones WHERE hash = ANY($1) RETURNING hash',
    [[...hashes.keys()]],
  );
  return rows.map((r) => hashes.get(r.hash)!).sort();
}
