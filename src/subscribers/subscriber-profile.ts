// `subscribers show KEY`: everything Lastcall holds about one subscriber, for an operator
// answering "what do you have on me, and what did you send me?": the profile, each channel's
// consent state, the consent events (the evidence, oldest first), their deliveries (latest
// first, with counts by status, and what the receiving side reported on them later: bounces and
// complaints) and their personal catch-up slots. A bounce or a complaint that ended a
// channel also shows as that channel's state and as a consent event with its evidence.
import type { Sql } from '../store/pool.ts';
import { SUBSCRIBER_COLUMNS, type SubscriberRow } from './subscriber.repository.ts';
import { findByKey, type SubscriberKey, subscriberNotFound } from './subscriber-key.ts';
import { type SubscriberSummary, subscriberSummary } from './subscriber-list.ts';

/** Deliveries listed one by one; the counts cover all of them. */
export const DELIVERIES_LISTED = 50;

export interface SubscriberProfile extends SubscriberSummary {
  readonly updatedAt: string;
  readonly channels: readonly {
    channel: string;
    state: string;
    consentAt: string | null;
    updatedAt: string;
    /** WhatsApp only: the business-scoped user id Meta reported for the person, if any. */
    whatsappUserId: string | null;
    /** WhatsApp only: the username the person adopted (shown, never used to match). */
    username: string | null;
  }[];
  readonly consentEvents: readonly {
    occurredAt: string;
    channel: string | null;
    kind: string;
    source: string;
    evidence: Record<string, unknown>;
  }[];
  readonly deliveries: {
    readonly total: number;
    readonly byStatus: Readonly<Record<string, number>>;
    readonly latest: readonly {
      id: number;
      campaign: string;
      step: string;
      channel: string;
      kind: string;
      status: string;
      attempts: number;
      errorCode: string | null;
      /** The provider's explanation, or why a delivery is `unknown`. */
      errorDetail: string | null;
      skipReason: string | null;
      queuedAt: string;
      sentAt: string | null;
      /** Bounces and complaints reported after sending: "bounced 5.1.1", "complained abuse". */
      reports: string[];
      deliveredAt: string | null;
      readAt: string | null;
      failedAt: string | null;
    }[];
  };
  readonly catchUpSlots: readonly {
    campaign: string;
    step: string;
    channel: string;
    sendAt: string;
    state: string;
  }[];
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export async function subscriberProfile(sql: Sql, key: SubscriberKey): Promise<SubscriberProfile> {
  const found = await findByKey(sql, key);
  if (!found) throw subscriberNotFound(key);
  const id = found.id;
  const [s, channels, events, counts, latest, slots] = await Promise.all([
    sql.one<SubscriberRow>(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE id = $1`, [id]),
    sql.query(
      `SELECT channel, state, consent_at, updated_at, whatsapp_user_id, whatsapp_username
         FROM subscriber_channels WHERE subscriber_id = $1 ORDER BY channel`,
      [id],
    ),
    sql.query(
      `SELECT occurred_at, channel, kind, source, evidence FROM consent_events
        WHERE subscriber_id = $1 ORDER BY occurred_at, id`,
      [id],
    ),
    sql.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM deliveries WHERE subscriber_id = $1 GROUP BY status ORDER BY status',
      [id],
    ),
    sql.query(
      `SELECT id, campaign_id, step_id, channel, kind, status, attempts, error_code, error_detail, skip_reason, queued_at, sent_at,
              delivered_at, read_at, failed_at
         FROM deliveries WHERE subscriber_id = $1 ORDER BY queued_at DESC, id DESC LIMIT $2`,
      [id, DELIVERIES_LISTED],
    ),
    sql.query(
      `SELECT campaign_id, step_id, channel, send_at, state FROM slots
        WHERE subscriber_id = $1 ORDER BY send_at, id`,
      [id],
    ),
  ]);
  if (!s) throw subscriberNotFound(key); // erased meanwhile
  const reports = await sql.query<{ delivery_id: number; outcome: string; code: string | null }>(
    `SELECT delivery_id, outcome, code FROM delivery_reports
      WHERE delivery_id = ANY($1::bigint[]) ORDER BY received_at, id`,
    [latest.map((d) => d.id)],
  );
  const reportsOf = (deliveryId: number) =>
    reports.filter((r) => r.delivery_id === deliveryId).map((r) => `${r.outcome} ${r.code ?? ''}`.trim());
  return {
    ...subscriberSummary(s),
    updatedAt: s.updated_at.toISOString(),
    channels: channels.map((c) => ({
      channel: c.channel,
      state: c.state,
      consentAt: iso(c.consent_at),
      updatedAt: c.updated_at.toISOString(),
      whatsappUserId: c.whatsapp_user_id,
      username: c.whatsapp_username,
    })),
    consentEvents: events.map((e) => ({
      occurredAt: e.occurred_at.toISOString(),
      channel: e.channel,
      kind: e.kind,
      source: e.source,
      evidence: e.evidence,
    })),
    deliveries: {
      total: counts.reduce((sum, c) => sum + c.n, 0),
      byStatus: Object.fromEntries(counts.map((c) => [c.status, c.n])),
      latest: latest.map((d) => ({
        id: d.id,
        campaign: d.campaign_id,
        step: d.step_id,
        channel: d.channel,
        kind: d.kind,
        status: d.status,
        attempts: d.attempts,
        errorCode: d.error_code,
        errorDetail: d.error_detail,
        skipReason: d.skip_reason,
        queuedAt: d.queued_at.toISOString(),
        sentAt: iso(d.sent_at),
        reports: reportsOf(d.id),
        deliveredAt: iso(d.delivered_at),
        readAt: iso(d.read_at),
        failedAt: iso(d.failed_at),
      })),
    },
    catchUpSlots: slots.map((slot) => ({
      campaign: slot.campaign_id,
      step: slot.step_id,
      channel: slot.channel,
      sendAt: slot.send_at.toISOString(),
      state: slot.state,
    })),
  };
}
