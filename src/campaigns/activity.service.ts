// What the console's charts, funnel and campaign list show about campaigns in motion, as
// aggregates the database answers from counters and indexes (delivery_counts,
// deliveries_campaign_sent, slots_identity); the one count that reads every eligible subscriber
// (the zones' sizes, for the plan chart) is memoised for 30 s, so a page polling every few
// seconds never walks the subscribers on each refresh:
// - the funnel: `campaign stats`, exactly, from the counters and the slots' audiences;
// - sends per minute by channel over the last hour (the sends chart, refreshed while it runs);
// - the plan: sends per hour ahead, by zone, with the deadline (the plan chart). A draft is
//   planned as if it started now (startSlots: the planner through the slot code); a running or
//   paused one shows its pending slots, each zone slot weighted by the zone's eligible
//   subscribers on that channel, a personal catch-up by one;
// - per campaign, deliveries created and sent so far, and what pending slots still expect;
// - a campaign's deliveries in keyset pages, and the plan preview of its stored subscribers.
import { bucketRange, bucketStart, HOUR_MS, MINUTE_MS } from '../planning/buckets.ts';
import { CHANNELS, type Channel } from '../shared/vocabulary.ts';
import type { Db, Sql } from '../store/pool.ts';
import { type CampaignRecord, findCampaign, listCampaigns } from './campaign.repository.ts';
import { unknownCampaign } from './campaign.service.ts';
import { campaignDeliveries, type DeliveryPage, type DeliveryStatus } from './deliveries.query.ts';
import { spreadPlanPreview } from './messaging-limit.check.ts';
import { audienceOf, startSlots } from './slot.builder.ts';
import { type Audience, eligibleZoneChannels, type ZoneChannel } from './slot.repository.ts';
import { type CampaignStats, campaignStats, expectedFromSlots } from './stats.service.ts';
import type { PriceTable } from './whatsapp-prices.ts';

export interface SendsPerMinute {
  /** Bucket starts, epoch ms, one a minute, oldest first. */
  readonly minutes: readonly number[];
  readonly byChannel: Readonly<Record<Channel, readonly number[]>>;
}

export interface PlanByHour {
  readonly deadline: number;
  /** Bucket starts, epoch ms, one an hour, from the hour of `now` to the last planned send. */
  readonly hours: readonly number[];
  /** The busiest zones first; the rest summed under "other". */
  readonly zones: readonly { readonly zone: string; readonly sends: readonly number[] }[];
  readonly total: number;
}

export interface CampaignProgress {
  readonly created: number;
  readonly sent: number;
  /** Deliveries still expected from slots not yet fanned out (their audience less what their
   *  fan-out made), until the deadline. */
  readonly expected: number;
}

/** Zones drawn one by one in the plan chart; the rest are summed. */
export const PLAN_ZONES_SHOWN = 8;
export const OTHER_ZONES = 'other';

export async function sendsPerMinute(
  sql: Sql,
  campaignId: string,
  now: number,
  minutes = 60,
): Promise<SendsPerMinute> {
  const from = bucketStart(now, MINUTE_MS) - (minutes - 1) * MINUTE_MS;
  const rows = await sql.query<{ channel: Channel; minute: Date; n: number }>(
    `SELECT channel, date_trunc('minute', sent_at) AS minute, count(*)::int AS n
       FROM deliveries
      WHERE campaign_id = $1 AND sent_at >= $2 AND sent_at <= $3 AND kind <> 'test'
      GROUP BY 1, 2`,
    [campaignId, new Date(from), new Date(now)],
  );
  const buckets = bucketRange(from, now, MINUTE_MS);
  const index = new Map(buckets.map((at, i) => [at, i]));
  const byChannel = Object.fromEntries(CHANNELS.map((c) => [c, buckets.map(() => 0)])) as Record<
    Channel,
    number[]
  >;
  for (const row of rows) {
    const i = index.get(row.minute.getTime());
    if (i !== undefined) byChannel[row.channel][i] = row.n;
  }
  return { minutes: buckets, byChannel };
}

interface WeightedSend {
  readonly zone: string;
  readonly sendAt: number;
  readonly sends: number;
}

type ZoneCounts = (sql: Sql, audience: Audience, now: number) => Promise<ZoneChannel[]>;
const freshZoneCounts: ZoneCounts = (sql, audience) => eligibleZoneChannels(sql, audience);

export async function planByHour(
  sql: Sql,
  record: CampaignRecord,
  now: number,
  zoneCounts: ZoneCounts = freshZoneCounts,
): Promise<PlanByHour> {
  const { campaign } = record;
  const empty = { deadline: record.deadline, hours: [], zones: [], total: 0 };
  if (record.deadline <= now || record.state === 'cancelled' || record.state === 'finished') return empty;
  const zoneChannels = await zoneCounts(sql, audienceOf(campaign), now);
  const weight = weights(zoneChannels);
  let sends: WeightedSend[];
  if (record.state === 'draft') {
    sends = startSlots(campaign, zoneChannels, now).slots.map((s) => ({
      zone: s.zone,
      sendAt: s.sendAt,
      sends: weight(s.zone, s.country ?? '', s.channel),
    }));
  } else {
    // A spread step's zone slot is one part of its people (docs/whatsapp.md, spreading): its
    // share of the zone's count is its planned audience's share of all the step's parts there.
    const pending = await sql.query<{
      zone: string;
      country: string;
      channel: Channel;
      send_at: Date;
      personal: boolean;
      parts: number;
      audience: number;
      step_audience: number;
    }>(
      `SELECT zone, country, channel, send_at, personal, parts, audience, step_audience
         FROM (SELECT zone, country, channel, send_at, state, subscriber_id IS NOT NULL AS personal,
                      parts, audience,
                      sum(audience) OVER (PARTITION BY step_id, zone, country, channel, kind, subscriber_id)::int
                        AS step_audience
                 FROM slots WHERE campaign_id = $1) s
        WHERE state IN ('pending', 'fanning_out') AND send_at < $2`,
      [record.id, new Date(record.deadline)],
    );
    sends = pending.map((s) => {
      const zone = s.personal ? 1 : weight(s.zone, s.country, s.channel);
      return {
        zone: s.zone,
        sendAt: Math.max(s.send_at.getTime(), now),
        sends: s.parts <= 1 ? zone : partShare(zone, s.audience, s.step_audience, s.parts),
      };
    });
  }
  return hourly(sends, record.deadline, now);
}

/** A part's sends out of `zone` people: in proportion to its planned audience, or an equal
 *  share when the step planned nobody there (a zone that filled up after the start). */
function partShare(zone: number, audience: number, stepAudience: number, parts: number): number {
  return Math.round(stepAudience > 0 ? (zone * audience) / stepAudience : zone / parts);
}

function weights(
  zoneChannels: readonly ZoneChannel[],
): (zone: string, country: string, channel: Channel) => number {
  const key = (zone: string, country: string, channel: Channel) => `${zone}\u0000${country}\u0000${channel}`;
  const byKey = new Map(zoneChannels.map((z) => [key(z.zone, z.country, z.channel), Number(z.subscribers)]));
  return (zone, country, channel) => byKey.get(key(zone, country, channel)) ?? 0;
}

function hourly(sends: readonly WeightedSend[], deadline: number, now: number): PlanByHour {
  const live = sends.filter((s) => s.sends > 0);
  if (live.length === 0) return { deadline, hours: [], zones: [], total: 0 };
  const last = Math.max(...live.map((s) => s.sendAt));
  const hours = bucketRange(now, last, HOUR_MS);
  const index = new Map(hours.map((at, i) => [at, i]));
  const perZone = new Map<string, number[]>();
  const totals = new Map<string, number>();
  for (const s of live) {
    const row = perZone.get(s.zone) ?? hours.map(() => 0);
    const i = index.get(bucketStart(s.sendAt, HOUR_MS));
    if (i !== undefined) row[i] = (row[i] ?? 0) + s.sends;
    perZone.set(s.zone, row);
    totals.set(s.zone, (totals.get(s.zone) ?? 0) + s.sends);
  }
  const ranked = [...perZone.keys()].sort(
    (a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || (a < b ? -1 : 1),
  );
  const shown = ranked.slice(0, PLAN_ZONES_SHOWN).map((zone) => ({ zone, sends: perZone.get(zone)! }));
  const rest = ranked.slice(PLAN_ZONES_SHOWN);
  if (rest.length > 0) {
    const other = hours.map((_, i) => rest.reduce((sum, zone) => sum + (perZone.get(zone)?.[i] ?? 0), 0));
    shown.push({ zone: OTHER_ZONES, sends: other });
  }
  const total = [...totals.values()].reduce((a, b) => a + b, 0);
  return { deadline, hours, zones: shown, total };
}

/** Per campaign id: deliveries created and sent so far, and what pending slots still expect. */
export async function campaignProgress(
  sql: Sql,
  campaigns: readonly CampaignRecord[],
  now: number,
): Promise<Map<string, CampaignProgress>> {
  const started = campaigns.filter((c) => c.state !== 'draft');
  const out = new Map<string, CampaignProgress>();
  if (started.length === 0) return out;
  const ids = started.map((c) => c.id);
  const counts = await sql.query<{ campaign_id: string; created: number; sent: number }>(
    `SELECT campaign_id, sum(n)::int AS created,
            coalesce(sum(n) FILTER (WHERE status IN ('sent', 'delivered', 'read')), 0)::int AS sent
       FROM delivery_counts WHERE campaign_id = ANY($1::text[]) GROUP BY 1`,
    [ids],
  );
  const expected = await expectedFromSlots(sql, ids);
  for (const c of started) {
    const row = counts.find((r) => r.campaign_id === c.id);
    const ahead = c.deadline > now ? expected.filter((e) => e.campaign_id === c.id) : [];
    out.set(c.id, {
      created: row?.created ?? 0,
      sent: row?.sent ?? 0,
      expected: ahead.reduce((sum, e) => sum + e.count, 0),
    });
  }
  return out;
}

/** The zones' sizes (eligible subscribers per zone and channel: a read of every eligible
 *  subscriber) are reused this long by the live parts; the deliveries' own figures and the slots
 *  are always read fresh. */
export const ZONE_SIZES_TTL_MS = 30_000;

type ZoneMemo = Map<string, { at: number; value: Promise<ZoneChannel[]> }>;
/** One memo per database, shared by every service over it (the console's and the API's). */
const zoneMemos = new WeakMap<Db, ZoneMemo>();

function memoisedZoneCounts(db: Db): ZoneCounts {
  let entries = zoneMemos.get(db);
  if (!entries) {
    entries = new Map();
    zoneMemos.set(db, entries);
  }
  const memo = entries;
  return (sql, audience, now) => {
    const key = JSON.stringify(audience);
    const hit = memo.get(key);
    if (hit && now >= hit.at && now - hit.at < ZONE_SIZES_TTL_MS) return hit.value;
    const value = eligibleZoneChannels(sql, audience);
    memo.set(key, { at: now, value });
    value.catch(() => memo.delete(key));
    return value;
  };
}

export interface CampaignOverview {
  readonly record: CampaignRecord;
  /** Undefined for a draft: nothing is planned until it starts. */
  readonly progress: CampaignProgress | undefined;
}

/** The edges' entry points (console pages, API routes): one call each, unknown ids refused. */
export function createActivityService(deps: {
  readonly db: Db;
  readonly prices?: PriceTable | undefined;
  /** WHATSAPP_MESSAGING_LIMIT (config), for the preview of a campaign that spreads its steps. */
  readonly messagingLimit?: number | 'unlimited' | undefined;
}) {
  const { db } = deps;
  const zoneCounts = memoisedZoneCounts(db);
  async function record(id: string): Promise<CampaignRecord> {
    const found = await findCampaign(db, id);
    if (!found) throw unknownCampaign(id);
    return found;
  }
  async function liveStats(r: CampaignRecord, now: number): Promise<CampaignStats> {
    return campaignStats(db, r, now, deps.prices);
  }
  return {
    async sendsPerMinute(id: string, now: number): Promise<SendsPerMinute> {
      return sendsPerMinute(db, (await record(id)).id, now);
    },
    async planByHour(id: string, now: number): Promise<PlanByHour> {
      return planByHour(db, await record(id), now, zoneCounts);
    },
    /** One campaign and its funnel (the console's campaign page). */
    async campaignView(id: string, now: number): Promise<{ record: CampaignRecord; stats: CampaignStats }> {
      const found = await record(id);
      return { record: found, stats: await liveStats(found, now) };
    },
    /** `campaign stats` (read from counters: cheap enough for a page that polls). */
    async liveStats(id: string, now: number): Promise<CampaignStats> {
      return liveStats(await record(id), now);
    },
    /** A campaign's deliveries, newest first, in keyset pages. */
    deliveries(
      id: string,
      page: { status?: DeliveryStatus; cursor?: number; limit: number },
    ): Promise<DeliveryPage> {
      return campaignDeliveries(db, id, page);
    },
    /** The plan preview of the stored subscribers as NDJSON lines (NotFound before the first). */
    planPreview(id: string, now: number): Promise<AsyncGenerator<string>> {
      return spreadPlanPreview(db, id, now, deps.messagingLimit);
    },
    /** Every campaign, soonest deadline first, with its progress. */
    async overview(now: number): Promise<CampaignOverview[]> {
      const records = await listCampaigns(db);
      const progress = await campaignProgress(db, records, now);
      return records.map((r) => ({ record: r, progress: progress.get(r.id) }));
    },
  };
}

export type ActivityService = ReturnType<typeof createActivityService>;
