// SQL for slots on the planning side: which zones and channels a campaign reaches, inserting
// planned slots idempotently, and the changes pause/resume/cancel make. The delivery side
// (src/delivery/due-slots.repository.ts) claims and fans them out; the two meet only in the
// `slots` and `deliveries` tables.
import type { SendKind } from '../planning/types.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import { audienceParams, audienceSql } from './audience.ts';
import type { CampaignAudience, CampaignHolidays } from './campaign.schema.ts';
import { holidayCountrySql } from './holiday-country.ts';

export interface NewSlot {
  readonly campaignId: string;
  readonly stepId: string;
  readonly zone: string;
  /** The holiday country of its subscribers (docs/audiences.md, "Public holidays"); '' or
   *  absent for a campaign without holidays and for subscribers without a country. */
  readonly country?: string;
  readonly channel: Channel;
  /** Epoch ms, a whole minute. */
  readonly sendAt: number;
  readonly kind: SendKind;
  /** Set for a personal catch-up slot; null for a whole zone. */
  readonly subscriberId: string | null;
  /** Its local wall time in `zone` ("2026-12-10T10:00") and the tzdata release that put it there. */
  readonly localTime: string;
  readonly tzVersion: string;
  /** Deliveries it is planned to make (the "planned" figure until its fan-out makes them):
   *  a zone slot's eligible subscribers on its channel; a personal catch-up's one by default. */
  readonly audience?: number;
  /** A spread step's part (docs/whatsapp.md): part `part` of `parts`; absent: 0 of 1. */
  readonly part?: number;
  readonly parts?: number;
}

/** A campaign's audience (tags, where) and the channels of its steps. */
export interface Audience extends CampaignAudience {
  /** Channels of the campaign's steps. */
  readonly channels: readonly Channel[];
  /** window.holidays: slots are then per (zone, country). */
  readonly holidays?: CampaignHolidays;
}

/**
 * Who a campaign reaches (docs/campaigns.md, "The campaign file"), over
 * `subscribers s JOIN subscriber_channels c`: active consent on the channel, not done, and in the
 * audience (audience.ts). `tags` and `path` are the parameter references holding `audienceParams`.
 * Fan-out and send re-check at their time.
 */
export function eligibleWhere(tags: string, path: string): string {
  return `c.state = 'active' AND s.done_at IS NULL AND ${audienceSql(tags, path)}`;
}

export interface ZoneChannel {
  readonly zone: string;
  /** '' unless the campaign has holidays (holiday-country.ts). */
  readonly country: string;
  readonly channel: Channel;
  readonly subscribers: number;
}

/** Every (zone, holiday country, channel) holding at least one eligible subscriber. Scans
 *  subscribers once; without holidays the country is '' throughout (one group per zone). */
export function eligibleZoneChannels(sql: Sql, audience: Audience): Promise<ZoneChannel[]> {
  const country = holidayCountrySql(audience.holidays);
  return sql.query<ZoneChannel>(
    `SELECT s.timezone AS zone, ${country} AS country, c.channel, count(*) AS subscribers
       FROM subscribers s JOIN subscriber_channels c ON c.subscriber_id = s.id
      WHERE c.channel = ANY($1::text[]) AND ${eligibleWhere('$2', '$3')}
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3`,
    [audience.channels, ...audienceParams(audience)],
  );
}

const CHUNK = 5_000;

/** One part slot of a spread step (docs/whatsapp.md): where a joiner of that part would be sent. */
export interface PartSlot {
  readonly campaignId: string;
  readonly stepId: string;
  readonly zone: string;
  readonly country: string;
  readonly part: number;
  readonly parts: number;
  readonly sendAt: number;
  /** Still to fan out (pending, its time ahead): a joiner of its part is taken with it. */
  readonly ahead: boolean;
}

/** The zone slots of the given campaigns' spread steps. */
export async function partSlots(sql: Sql, campaignIds: readonly string[], now: number): Promise<PartSlot[]> {
  if (campaignIds.length === 0) return [];
  const rows = await sql.query<{
    campaign_id: string;
    step_id: string;
    zone: string;
    country: string;
    part: number;
    parts: number;
    send_at: Date;
    ahead: boolean;
  }>(
    `SELECT campaign_id, step_id, zone, country, part, parts, send_at, (state = 'pending' AND send_at > $2) AS ahead
       FROM slots
      WHERE campaign_id = ANY($1::text[]) AND parts > 1 AND subscriber_id IS NULL AND kind = 'scheduled'`,
    [campaignIds, new Date(now)],
  );
  return rows.map((r) => ({
    campaignId: r.campaign_id,
    stepId: r.step_id,
    zone: r.zone,
    country: r.country,
    part: r.part,
    parts: r.parts,
    sendAt: r.send_at.getTime(),
    ahead: r.ahead,
  }));
}

/**
 * Inserts slots that do not exist yet (identity: campaign, step, zone, channel, kind, subscriber
 * holiday country and part); an existing one keeps its time and state. Returns how many were new.
 */
export async function insertSlots(sql: Sql, slots: readonly NewSlot[], now: number): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < slots.length; i += CHUNK) {
    const chunk = slots.slice(i, i + CHUNK);
    inserted += await sql.exec(
      `INSERT INTO slots (campaign_id, step_id, zone, channel, send_at, kind, subscriber_id,
                          local_time, tz_version, planned_at, created_at, updated_at, audience, country, part, parts)
       SELECT s.campaign_id, s.step_id, s.zone, s.channel, s.send_at, s.kind, s.subscriber_id,
              s.local_time, s.tz_version, $8, $8, $8,
              coalesce(s.audience, CASE WHEN s.subscriber_id IS NULL THEN 0 ELSE 1 END), s.country, s.part, s.parts
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[],
                     $9::text[], $10::text[], $11::int[], $12::text[], $13::smallint[], $14::smallint[])
              AS s(campaign_id, step_id, zone, channel, send_at, kind, subscriber_id, local_time, tz_version, audience,
                   country, part, parts)
       ON CONFLICT (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''), country, part) DO NOTHING`,
      [
        chunk.map((s) => s.campaignId),
        chunk.map((s) => s.stepId),
        chunk.map((s) => s.zone),
        chunk.map((s) => s.channel),
        chunk.map((s) => new Date(s.sendAt)),
        chunk.map((s) => s.kind),
        chunk.map((s) => s.subscriberId),
        new Date(now),
        chunk.map((s) => s.localTime),
        chunk.map((s) => s.tzVersion),
        chunk.map((s) => s.audience ?? null),
        chunk.map((s) => s.country ?? ''),
        chunk.map((s) => s.part ?? 0),
        chunk.map((s) => s.parts ?? 1),
      ],
    );
  }
  return inserted;
}

export interface OverdueSlot {
  readonly id: number;
  readonly stepId: string;
  readonly zone: string;
  readonly country: string;
  readonly channel: Channel;
  readonly subscriberId: string | null;
  readonly sendAt: number;
}

/**
 * Pending slots whose time has come and whose fan-out never began (no cursor): the ones a
 * pause held back. A slot a paused fan-out handed back with a cursor is half sent: it resumes.
 */
export async function overdueSlots(sql: Sql, campaignId: string, now: number): Promise<OverdueSlot[]> {
  const rows = await sql.query<{
    id: number;
    step_id: string;
    zone: string;
    country: string;
    channel: Channel;
    subscriber_id: string | null;
    send_at: Date;
  }>(
    `SELECT id, step_id, zone, country, channel, subscriber_id, send_at FROM slots
      WHERE campaign_id = $1 AND state = 'pending' AND send_at <= $2 AND cursor IS NULL
      ORDER BY id FOR UPDATE`,
    [campaignId, new Date(now)],
  );
  return rows.map((r) => ({
    id: r.id,
    stepId: r.step_id,
    zone: r.zone,
    country: r.country,
    channel: r.channel,
    subscriberId: r.subscriber_id,
    sendAt: r.send_at.getTime(),
  }));
}

/** Re-planned at `now` (a resume's catch-up): its new instant, wall time and tz data. */
export async function moveSlot(
  sql: Sql,
  slotId: number,
  sendAt: number,
  now: number,
  planned: { readonly localTime: string; readonly tzVersion: string },
): Promise<void> {
  await sql.exec(
    `UPDATE slots SET send_at = $2, updated_at = $3, planned_at = $3, local_time = $4, tz_version = $5
      WHERE id = $1 AND state = 'pending'`,
    [slotId, new Date(sendAt), new Date(now), planned.localTime, planned.tzVersion],
  );
}

export function cancelSlots(sql: Sql, slotIds: readonly number[], now: number): Promise<number> {
  if (slotIds.length === 0) return Promise.resolve(0);
  return sql.exec(
    `UPDATE slots SET state = 'cancelled', updated_at = $2 WHERE id = ANY($1::bigint[]) AND state = 'pending'`,
    [slotIds, new Date(now)],
  );
}

/** Every slot of the campaign that has not started its fan-out. */
export function cancelPendingSlots(sql: Sql, campaignId: string, now: number): Promise<number> {
  return sql.exec(
    `UPDATE slots SET state = 'cancelled', updated_at = $2 WHERE campaign_id = $1 AND state = 'pending'`,
    [campaignId, new Date(now)],
  );
}

/** Why deliveries of a cancelled campaign were never sent (deliveries.skip_reason). */
export const CAMPAIGN_CANCELLED = 'campaign-cancelled';

/** Deliveries waiting for a sender (queued, or between retries) are skipped; a send in
 *  flight (`sending`) is left to its sender, which re-checks the campaign state first. */
export function skipWaitingDeliveries(sql: Sql, campaignId: string, now: number): Promise<number> {
  return sql.exec(
    `UPDATE deliveries SET status = 'skipped', skip_reason = $2, next_attempt_at = NULL, updated_at = $3
      WHERE campaign_id = $1 AND status IN ('queued', 'retrying')`,
    [campaignId, CAMPAIGN_CANCELLED, new Date(now)],
  );
}

export interface SlotCount {
  readonly state: string;
  readonly kind: SendKind;
  readonly personal: boolean;
  readonly count: number;
}

export function countSlots(sql: Sql, campaignId: string): Promise<SlotCount[]> {
  return sql.query<SlotCount>(
    `SELECT state, kind, subscriber_id IS NOT NULL AS personal, count(*) AS count
       FROM slots WHERE campaign_id = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [campaignId],
  );
}

export interface NextSlot {
  readonly stepId: string;
  readonly sendAt: number;
}

export async function nextPendingSlot(sql: Sql, campaignId: string): Promise<NextSlot | undefined> {
  const row = await sql.one<{ step_id: string; send_at: Date }>(
    `SELECT step_id, send_at FROM slots WHERE campaign_id = $1 AND state = 'pending'
      ORDER BY send_at, id LIMIT 1`,
    [campaignId],
  );
  return row && { stepId: row.step_id, sendAt: row.send_at.getTime() };
}
