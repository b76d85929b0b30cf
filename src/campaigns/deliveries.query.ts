// A campaign's deliveries in keyset pages (API: GET /campaigns/{id}/deliveries): ordered by id,
// the cursor is the last id seen, so a page costs the same at row 10 as at row 10 million and
// rows written meanwhile are neither skipped nor repeated. Ids only: no phone, email or name.
import type { Sql } from '../store/pool.ts';
import { findCampaign } from './campaign.repository.ts';
import { unknownCampaign } from './campaign.service.ts';

export const DELIVERY_STATUSES = [
  'queued',
  'sending',
  'retrying',
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped',
  'unknown',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryItem {
  readonly id: number;
  readonly step: string;
  readonly subscriberId: string | null;
  readonly channel: string;
  readonly kind: string;
  readonly status: string;
  readonly attempts: number;
  readonly errorCode: string | null;
  readonly skipReason: string | null;
  readonly queuedAt: string;
  readonly sentAt: string | null;
  readonly deliveredAt: string | null;
  readonly readAt: string | null;
  readonly failedAt: string | null;
}

export interface DeliveryPage {
  readonly items: DeliveryItem[];
  readonly nextCursor: string | null;
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export async function campaignDeliveries(
  sql: Sql,
  campaignId: string,
  opts: { status?: DeliveryStatus; cursor?: number; limit: number },
): Promise<DeliveryPage> {
  if (!(await findCampaign(sql, campaignId))) throw unknownCampaign(campaignId);
  const rows = await sql.query<{
    id: number;
    step_id: string;
    subscriber_id: string | null;
    channel: string;
    kind: string;
    status: string;
    attempts: number;
    error_code: string | null;
    skip_reason: string | null;
    queued_at: Date;
    sent_at: Date | null;
    delivered_at: Date | null;
    read_at: Date | null;
    failed_at: Date | null;
  }>(
    `SELECT id, step_id, subscriber_id, channel, kind, status, attempts, error_code, skip_reason,
            queued_at, sent_at, delivered_at, read_at, failed_at
       FROM deliveries
      WHERE campaign_id = $1 AND id > $2 AND ($3::text IS NULL OR status = $3)
      ORDER BY id LIMIT $4`,
    [campaignId, opts.cursor ?? 0, opts.status ?? null, opts.limit + 1],
  );
  const more = rows.length > opts.limit;
  const items = rows.slice(0, opts.limit).map((r) => ({
    id: r.id,
    step: r.step_id,
    subscriberId: r.subscriber_id,
    channel: r.channel,
    kind: r.kind,
    status: r.status,
    attempts: r.attempts,
    errorCode: r.error_code,
    skipReason: r.skip_reason,
    queuedAt: r.queued_at.toISOString(),
    sentAt: iso(r.sent_at),
    deliveredAt: iso(r.delivered_at),
    readAt: iso(r.read_at),
    failedAt: iso(r.failed_at),
  }));
  return { items, nextCursor: more ? String(items.at(-1)?.id) : null };
}
