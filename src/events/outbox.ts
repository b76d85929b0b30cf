// The transactional outbox of outbound events (docs/api.md, "Outbound events";
// docs/architecture.md, "Principles"). A state change and its event row are written by the same
// transaction (or the same statement), so an event exists exactly when its change committed: a
// process dying between a commit and a queue cannot lose one. The drainer (outbox-drainer.ts) moves
// rows into the `events` queue; `seq` gives the order per subscriber. Events carry ids, never
// phones, emails or names: `data` is checked against that before it is written.
import type { Sql } from '../store/pool.ts';

export const EVENT_TYPES = [
  'delivery.sent',
  'delivery.delivered',
  'delivery.read',
  'delivery.failed',
  /** A delivery held back by WhatsApp's messaging limit (data.skipReason). */
  'delivery.skipped',
  'subscriber.confirmed',
  'subscriber.unsubscribed',
  'subscriber.stopped',
  'subscriber.done',
  'subscriber.bounced',
  /** A spam complaint (ARF) ended the email channel. */
  'subscriber.complained',
  /** Meta changed a WhatsApp template a campaign uses (category, impending category, review
   *  status or quality), one per campaign (docs/whatsapp.md). */
  'template.changed',
  /** Pending sends re-planned under newer tz data (docs/timezones.md). */
  'campaign.replanned',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Ids, codes and words only: a value that looks like a phone or an email is refused. */
export type EventData = Readonly<Record<string, string | number | boolean | null>>;

export interface NewEvent {
  readonly type: EventType;
  readonly subscriberId: string;
  readonly data?: EventData;
}

const PERSONAL = /@|^\+\d/;

function checkData(data: EventData): void {
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string' && PERSONAL.test(value))
      throw new Error(`event data "${key}" looks like a phone number or an email: events carry ids only`);
  }
}

/**
 * Records an event in the caller's transaction: call it with the `sql` that makes the change
 * (for example a bounce ending a subscriber's email channel: `subscriber.bounced`). `now` is the
 * event's createdAt (epoch ms).
 */
export async function recordEvent(sql: Sql, event: NewEvent, now: number): Promise<void> {
  checkData(event.data ?? {});
  const data = { subscriberId: event.subscriberId, ...event.data };
  await sql.exec(
    `INSERT INTO event_outbox (id, type, subscriber_id, data, created_at)
     VALUES (gen_random_uuid(), $1, $2, $3, $4)`,
    [event.type, event.subscriberId, JSON.stringify(data), new Date(now)],
  );
}

/**
 * Records an event about a campaign as a whole, in the caller's transaction. It belongs to no
 * subscriber, so it waits for no subscriber's earlier events. `data` carries `campaignId`.
 */
export async function recordCampaignEvent(
  sql: Sql,
  type: EventType,
  campaignId: string,
  data: EventData,
  now: number,
): Promise<void> {
  checkData(data);
  await sql.exec(
    `INSERT INTO event_outbox (id, type, subscriber_id, data, created_at)
     VALUES (gen_random_uuid(), $1, NULL, $2, $3)`,
    [type, JSON.stringify({ campaignId, ...data }), new Date(now)],
  );
}

/** The columns of a delivery's event, from a row source `r` with the deliveries' columns. */
const DELIVERY_EVENT_SELECT = `gen_random_uuid(), r.subscriber_id,
  jsonb_strip_nulls(jsonb_build_object('subscriberId', r.subscriber_id, 'deliveryId', r.id,
    'campaignId', r.campaign_id, 'step', r.step_id, 'channel', r.channel, 'errorCode', r.error_code,
    'skipReason', CASE WHEN r.status = 'skipped' THEN r.skip_reason END))`;

/**
 * A data-modifying CTE body that records `delivery.<status>` for each row of the CTE `rows`
 * (which must return id, campaign_id, step_id, channel, subscriber_id, kind, error_code, status,
 * skip_reason), so a
 * statement that moves deliveries records their events atomically. `type` and `at` are SQL
 * expressions. Test sends and erased subscribers raise no event.
 */
export function deliveryEventsFrom(rows: string, type: string, at: string): string {
  return `INSERT INTO event_outbox (id, subscriber_id, data, type, created_at)
     SELECT ${DELIVERY_EVENT_SELECT}, ${type}, ${at}
       FROM ${rows} r WHERE r.kind <> 'test' AND r.subscriber_id IS NOT NULL`;
}
