// Erasure (`subscribers forget KEY`): one transaction removes every piece of personal data
// Lastcall holds about a person and leaves a tombstone per address, so that a later import of
// the same phone or email is refused (only the person may opt in again, through the web form,
// which lifts the tombstone: subscription.service.ts).
//
// - Tombstones are keyed HMACs (tombstoneHash, shared with the importer and the sign-up) of
//   every address the person ever gave: the current phone and email and the addresses recorded
//   in their consent evidence (an address they changed away from would otherwise come back in
//   an old CSV).
// - Deleting the subscriber cascades to channels (with the WhatsApp BSUID and username stored
//   there), consent events and personal catch-up slots;
//   deliveries keep an anonymous row (subscriber_id null) for the campaign's figures.
// - What a delivery row may still hold about the person is scrubbed: the WhatsApp message id
//   (a wamid encodes the recipient's number) and provider error texts (an SMTP refusal quotes
//   the address). Deliveries not yet sent are skipped with reason `erased`.
// - A fan-out's keyset cursor may be the erased id: it moves to the previous remaining id, which
//   selects exactly the same remaining subscribers.
// - A WhatsApp webhook stored but not yet processed (normally seconds) may mention the person
//   (by phone, BSUID or username): their statuses, messages, contact and preferences are cut out
//   of its payload; the rest of
//   the batch is still processed for everyone else.
// A send in flight while this commits, and a fan-out page already read, are guarded on their
// side (send.repository.ts, advanceCursor): they write nothing about the person afterwards.

import { redactWebhookPayload } from '../inbound/webhook-payload.ts';
import type { NotFound } from '../shared/errors.ts';
import type { Db, Sql } from '../store/pool.ts';
import { type TombstoneKind, tombstoneHash } from './subscriber.repository.ts';
import { describeKey, findByKey, type SubscriberKey, subscriberNotFound } from './subscriber-key.ts';

export interface ErasureDeps {
  readonly db: Db;
  /** config.secretKey: keys the tombstones (the same key as serve, work and import). */
  readonly secretKey: string;
}

export interface ErasureResult {
  readonly subscriberId: string;
  /** Addresses tombstoned, by kind (new and already present). */
  readonly tombstones: { readonly phone: number; readonly email: number };
  readonly channels: number;
  readonly consentEvents: number;
  /** Delivery rows kept without the person (subscriber_id null). */
  readonly deliveriesAnonymised: number;
  /** Of those, rows not yet sent, now skipped with reason `erased`. */
  readonly deliveriesSkipped: number;
  readonly personalSlots: number;
  /** WhatsApp webhooks waiting to be processed that mentioned the person, now without them. */
  readonly webhookPayloadsRedacted: number;
}

export function createErasureService(deps: ErasureDeps) {
  return {
    async forget(key: SubscriberKey, now: number): Promise<ErasureResult> {
      const { secretKey } = deps;
      return deps.db.tx(async (sql) => {
        const found = await findByKey(sql, key, true);
        if (!found) throw await notFound(sql, secretKey, key);
        return erase(sql, secretKey, found.id, now);
      });
    },
  };
}

export type ErasureService = ReturnType<typeof createErasureService>;

async function notFound(sql: Sql, secretKey: string, key: SubscriberKey): Promise<NotFound> {
  if (key.kind !== 'id') {
    const hash = tombstoneHash(secretKey, key.kind, key.value);
    if (await sql.one('SELECT 1 FROM tombstones WHERE hash = $1', [hash]))
      return subscriberNotFound(key, `no subscriber with ${describeKey(key)}: it was already erased`);
  }
  return subscriberNotFound(key);
}

async function erase(sql: Sql, secretKey: string, id: string, now: number): Promise<ErasureResult> {
  const at = new Date(now);
  const addresses = await sql.query<{ kind: TombstoneKind; address: string }>(
    `SELECT 'phone' AS kind, phone AS address FROM subscribers WHERE id = $1 AND phone IS NOT NULL
     UNION SELECT 'email', email FROM subscribers WHERE id = $1 AND email IS NOT NULL
     UNION SELECT CASE channel WHEN 'whatsapp' THEN 'phone' ELSE 'email' END, evidence->>'address'
             FROM consent_events
            WHERE subscriber_id = $1 AND channel IS NOT NULL AND evidence->>'address' IS NOT NULL`,
    [id],
  );
  const counts = await sql.one<{ channels: number; events: number; slots: number }>(
    `SELECT (SELECT count(*) FROM subscriber_channels WHERE subscriber_id = $1)::int AS channels,
            (SELECT count(*) FROM consent_events WHERE subscriber_id = $1)::int AS events,
            (SELECT count(*) FROM slots WHERE subscriber_id = $1)::int AS slots`,
    [id],
  );
  // Meta's other names for the person: the BSUID and the username (the channel row goes with
  // the subscriber; a webhook still waiting may hold them).
  const whatsappNames = await sql.query<{ name: string }>(
    `SELECT whatsapp_user_id AS name FROM subscriber_channels WHERE subscriber_id = $1 AND whatsapp_user_id IS NOT NULL
     UNION SELECT whatsapp_username FROM subscriber_channels WHERE subscriber_id = $1 AND whatsapp_username IS NOT NULL`,
    [id],
  );
  const deliveries = await sql.query<{ id: number }>(
    'SELECT id FROM deliveries WHERE subscriber_id = $1 ORDER BY id FOR UPDATE',
    [id],
  );
  const ids = deliveries.map((d) => d.id);
  const skipped = await sql.exec(
    `UPDATE deliveries SET status = 'skipped', skip_reason = 'erased', next_attempt_at = NULL, updated_at = $2
      WHERE id = ANY($1::bigint[]) AND status IN ('queued', 'retrying')`,
    [ids, at],
  );
  await sql.exec(
    `UPDATE deliveries
        SET provider_message_id = CASE WHEN channel = 'whatsapp' THEN NULL ELSE provider_message_id END,
            error_detail = NULL, updated_at = $2
      WHERE id = ANY($1::bigint[])`,
    [ids, at],
  );
  await sql.exec('UPDATE delivery_attempts SET detail = NULL WHERE delivery_id = ANY($1::bigint[])', [ids]);

  // Cascades: channels, consent events, personal slots. Deliveries: subscriber_id → null. The
  // delete waits for a fan-out page inserting this subscriber's delivery (its foreign-key lock).
  await sql.exec('DELETE FROM subscribers WHERE id = $1', [id]);
  // They still count against WhatsApp's messaging limit until their 24 h pass, as no one.
  await sql.exec(
    `UPDATE whatsapp_people_messaged SET recipient = 'erased:' || gen_random_uuid() WHERE recipient = $1`,
    [id],
  );
  await sql.exec(
    `UPDATE slots SET cursor = coalesce((SELECT max(id) FROM subscribers WHERE id < $1), ''), updated_at = $2
      WHERE cursor = $1`,
    [id, at],
  );

  const webhookPayloadsRedacted = await redactPendingWebhooks(sql, [
    ...addresses.filter((a) => a.kind === 'phone').map((a) => a.address.replace(/^\+/, '')),
    ...whatsappNames.map((n) => n.name),
  ]);

  const tombstones = { phone: 0, email: 0 };
  const hashes = new Map<string, TombstoneKind>();
  for (const { kind, address } of addresses) hashes.set(tombstoneHash(secretKey, kind, address), kind);
  for (const kind of hashes.values()) tombstones[kind]++;
  await sql.exec(
    `INSERT INTO tombstones (hash, kind, created_at)
     SELECT h, k, $3 FROM unnest($1::text[], $2::text[]) AS t(h, k)
     ON CONFLICT (hash) DO NOTHING`,
    [[...hashes.keys()], [...hashes.values()], at],
  );
  return {
    subscriberId: id,
    tombstones,
    channels: counts?.channels ?? 0,
    consentEvents: counts?.events ?? 0,
    deliveriesAnonymised: ids.length,
    deliveriesSkipped: skipped,
    personalSlots: counts?.slots ?? 0,
    webhookPayloadsRedacted,
  };
}

/** Cuts the wa_ids (E.164 digits), BSUIDs and usernames out of unprocessed webhook payloads. A
 *  processor holding one of them locked is waited for; it then drops the payload itself
 *  (finishEvents). */
async function redactPendingWebhooks(sql: Sql, waIds: readonly string[]): Promise<number> {
  if (waIds.length === 0) return 0;
  const like = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await sql.query<{ id: number; payload: unknown }>(
    `SELECT id, payload FROM webhook_events
      WHERE processed_at IS NULL AND payload::text LIKE ANY ($1::text[]) ORDER BY id FOR UPDATE`,
    [waIds.map(like)],
  );
  let redacted = 0;
  for (const row of rows) {
    const payload = redactWebhookPayload(row.payload, waIds);
    if (payload === undefined) continue;
    await sql.exec('UPDATE webhook_events SET payload = $2::jsonb WHERE id = $1 AND processed_at IS NULL', [
      row.id,
      JSON.stringify(payload),
    ]);
    redacted++;
  }
  return redacted;
}
