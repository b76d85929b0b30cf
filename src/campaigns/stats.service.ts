// `campaign stats` (docs/cli.md): per step × channel, what is planned and what became of it, read
// from counters, never by counting deliveries (docs/delivery.md, "Counters"): the same figures
// at ten deliveries and at ten million, in a few milliseconds.
//
// - planned: every delivery row, plus what slots not yet fanned out still expect: the audience
//   each was planned for less the rows its fan-out has made so far. Nothing is expected once
//   the deadline has passed.
// - queued counts rows waiting for or in the hands of a sender (queued, sending, retrying).
// - sent, delivered and read are a funnel: a read message was delivered and sent, so it counts
//   in all three. failed, skipped and unknown are final and counted once, failures by the
//   provider's error code and skips by reason.
// - bounced, soft-bounced and complained count deliveries the receiving side reported on later
//   (delivery_reports; docs/operations.md, "Bounces and complaints"): a permanent DSN (or WhatsApp
//   131026), a transient DSN, a spam complaint. They overlap the funnel: a bounced email was `sent`
//   as far as the SMTP server said.
// Test sends (`send-test`) are not part of a campaign's figures.
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import type { CampaignRecord } from './campaign.repository.ts';
import { type ReplanSummary, replansOf } from './replan.repository.ts';
import { type PriceTable, priceOf } from './whatsapp-prices.ts';

export interface StepChannelStats {
  readonly step: string;
  readonly channel: Channel;
  readonly planned: number;
  readonly queued: number;
  readonly sent: number;
  readonly delivered: number;
  readonly read: number;
  readonly failed: number;
  readonly skipped: number;
  /** Maybe sent, never retried: found mid-send after a crash, or no answer after the request
   *  went out (a provider timeout). */
  readonly unknown: number;
  /** Reported undeliverable for good after the provider accepted it: the channel ended. */
  readonly bounced: number;
  /** Reported delayed or refused for now (4.x.x): nothing changed. */
  readonly softBounced: number;
  /** Reported as spam by the person: the channel ended. */
  readonly complained: number;
  readonly failedByCode: Readonly<Record<string, number>>;
  /** `timeout` / `connection-lost` (the provider may have taken it), `interrupted` (a crash). */
  readonly unknownByReason: Readonly<Record<string, number>>;
  readonly skippedByReason: Readonly<Record<string, number>>;
}

/** The funnel a message goes down, as the console's table and `campaign stats` show it. */
export const FUNNEL_COLUMNS = [
  'planned',
  'queued',
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped',
] as const satisfies readonly (keyof StepChannelStats)[];

export interface CampaignStats {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly deadline: number;
  readonly steps: readonly StepChannelStats[];
  /** Pending sends re-planned under newer tz data, per (from, to) release (docs/timezones.md). */
  readonly tzReplans: readonly ReplanSummary[];
  /** WhatsApp messages Meta priced, per step and pricing category, billable or free
   *  (the `pricing` of their status webhooks; docs/whatsapp.md). */
  readonly whatsappPricing: readonly WhatsAppPricingRow[];
  /** The billable messages at the operator's prices (config/whatsapp-prices.yaml); null when
   *  there is no price table. */
  readonly whatsappCost: WhatsAppCost | null;
}

export interface WhatsAppPricingRow {
  readonly step: string;
  readonly category: string;
  readonly billable: number;
  readonly free: number;
  /** Its billable messages × the price for each recipient's calling code, in millionths of the
   *  table's currency (the priced ones only); absent without a price table. */
  readonly costMicros?: number;
  /** Billable messages the table has no price for (neither their calling code nor `default`). */
  readonly unpriced?: number;
}

export interface WhatsAppCost {
  readonly currency: string;
  /** The price table it was computed with. */
  readonly file: string;
  /** Sum over the steps, millionths of the currency. */
  readonly micros: number;
  readonly unpriced: number;
}

type Mutable<T> = {
  -readonly [K in keyof T]: T[K] extends Readonly<Record<string, number>> ? Record<string, number> : T[K];
};

export async function campaignStats(
  sql: Sql,
  record: CampaignRecord,
  now: number,
  prices?: PriceTable,
): Promise<CampaignStats> {
  const { campaign } = record;
  const rows = new Map<string, Mutable<StepChannelStats>>();
  const key = (step: string, channel: string) => `${step}\u0000${channel}`;
  for (const step of campaign.steps) {
    for (const channel of step.channels) {
      rows.set(key(step.id, channel), emptyRow(step.id, channel));
    }
  }
  const rowFor = (step: string, channel: Channel) => {
    let row = rows.get(key(step, channel));
    if (row === undefined) {
      // A delivery of a step since removed from a draft, or a channel since dropped.
      row = emptyRow(step, channel);
      rows.set(key(step, channel), row);
    }
    return row;
  };

  for (const d of await deliveryCounts(sql, record.id)) {
    const row = rowFor(d.step_id, d.channel);
    row.planned += d.count;
    switch (d.status) {
      case 'queued':
      case 'sending':
      case 'retrying':
        row.queued += d.count;
        break;
      case 'read':
        row.read += d.count;
        row.delivered += d.count;
        row.sent += d.count;
        break;
      case 'delivered':
        row.delivered += d.count;
        row.sent += d.count;
        break;
      case 'sent':
        row.sent += d.count;
        break;
      case 'failed':
        row.failed += d.count;
        bump(row.failedByCode, d.reason, d.count);
        break;
      case 'skipped':
        row.skipped += d.count;
        bump(row.skippedByReason, d.reason, d.count);
        break;
      default:
        row.unknown += d.count;
        bump(row.unknownByReason, d.reason, d.count);
    }
  }
  for (const r of await reportCounts(sql, record.id)) {
    const row = rowFor(r.step_id, r.channel);
    if (r.outcome === 'bounced') row.bounced += r.count;
    else if (r.outcome === 'soft-bounced') row.softBounced += r.count;
    else if (r.outcome === 'complained') row.complained += r.count;
  }
  if (record.deadline > now) {
    for (const e of await expectedFromSlots(sql, [record.id])) {
      rowFor(e.step_id, e.channel).planned += e.count;
    }
  }
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    deadline: record.deadline,
    steps: [...rows.values()],
    tzReplans: await replansOf(sql, record.id),
    ...(await pricingOf(sql, record.id, prices)),
  };
}

/** Priced messages per step and category from their counters, at the table's prices. */
async function pricingOf(
  sql: Sql,
  campaignId: string,
  prices: PriceTable | undefined,
): Promise<Pick<CampaignStats, 'whatsappPricing' | 'whatsappCost'>> {
  const counts = await sql.query<{
    step: string;
    category: string;
    calling_code: string;
    billable: boolean;
    n: number;
  }>(
    `SELECT step_id AS step, category, calling_code, billable, sum(n)::int AS n
       FROM whatsapp_pricing_counts WHERE campaign_id = $1
      GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2`,
    [campaignId],
  );
  const rows = new Map<
    string,
    { step: string; category: string; billable: number; free: number; costMicros: number; unpriced: number }
  >();
  for (const c of counts) {
    const key = `${c.step}\u0000${c.category}`;
    let row = rows.get(key);
    if (!row) {
      row = { step: c.step, category: c.category, billable: 0, free: 0, costMicros: 0, unpriced: 0 };
      rows.set(key, row);
    }
    if (!c.billable) {
      row.free += c.n;
      continue;
    }
    row.billable += c.n;
    const price = prices ? priceOf(prices, c.calling_code, c.category) : undefined;
    if (price === undefined) row.unpriced += c.n;
    else row.costMicros += price * c.n;
  }
  const all = [...rows.values()];
  if (!prices)
    return { whatsappPricing: all.map(({ costMicros, unpriced, ...row }) => row), whatsappCost: null };
  return {
    whatsappPricing: all,
    whatsappCost: {
      currency: prices.currency,
      file: prices.file,
      micros: all.reduce((sum, r) => sum + r.costMicros, 0),
      unpriced: all.reduce((sum, r) => sum + r.unpriced, 0),
    },
  };
}

function emptyRow(step: string, channel: Channel): Mutable<StepChannelStats> {
  return {
    step,
    channel,
    planned: 0,
    queued: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    failed: 0,
    skipped: 0,
    unknown: 0,
    bounced: 0,
    softBounced: 0,
    complained: 0,
    failedByCode: {},
    skippedByReason: {},
    unknownByReason: {},
  };
}

function bump(counts: Record<string, number>, key: string, by: number): void {
  counts[key] = (counts[key] ?? 0) + by;
}

interface DeliveryCount {
  step_id: string;
  channel: Channel;
  status: string;
  /** The failure code (failed), skip reason (skipped) or cause (unknown); '' otherwise. */
  reason: string;
  count: number;
}

/** Where the fan-out of the slots already due stands (`campaign stats --watch`). */
export interface FanoutProgress {
  readonly state: string;
  /** Slots whose send time has come (cancelled ones aside). */
  readonly dueSlots: number;
  /** Delivery rows their fan-out has created so far. */
  readonly created: number;
  /** Rows still expected from due slots not (fully) fanned out yet. */
  readonly remaining: number;
  /** Of the created rows, those with a final status (sent and beyond, failed, skipped, unknown). */
  readonly settled: number;
  /** The next slot's send time, when one is still to come. */
  readonly nextDueAt: number | undefined;
}

export async function fanoutProgress(sql: Sql, record: CampaignRecord, now: number): Promise<FanoutProgress> {
  const at = new Date(now);
  const slots = await sql.one<{ due: number; next: Date | null }>(
    `SELECT count(*) FILTER (WHERE send_at <= $2)::int AS due,
            min(send_at) FILTER (WHERE send_at > $2 AND state = 'pending') AS next
       FROM slots WHERE campaign_id = $1 AND state <> 'cancelled'`,
    [record.id, at],
  );
  // Rows exist only once their slot came due and was fanned out: the counters hold them all.
  const rows = await sql.one<{ created: number; settled: number }>(
    `SELECT coalesce(sum(n), 0)::int AS created,
            coalesce(sum(n) FILTER (WHERE status NOT IN ('queued', 'sending', 'retrying')), 0)::int AS settled
       FROM delivery_counts WHERE campaign_id = $1`,
    [record.id],
  );
  const remaining =
    record.deadline > now
      ? (await expectedFromSlots(sql, [record.id], at)).reduce((sum, e) => sum + e.count, 0)
      : 0;
  return {
    state: record.state,
    dueSlots: slots?.due ?? 0,
    created: rows?.created ?? 0,
    remaining,
    settled: rows?.settled ?? 0,
    nextDueAt: slots?.next ? slots.next.getTime() : undefined,
  };
}

/** The counters of a campaign's deliveries (delivery_counts, kept by triggers on every change). */
function deliveryCounts(sql: Sql, campaignId: string): Promise<DeliveryCount[]> {
  return sql.query<DeliveryCount>(
    `SELECT step_id, channel, status, reason, sum(n)::int AS count
       FROM delivery_counts WHERE campaign_id = $1
      GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0`,
    [campaignId],
  );
}

function reportCounts(
  sql: Sql,
  campaignId: string,
): Promise<{ step_id: string; channel: Channel; outcome: string; count: number }[]> {
  return sql.query(
    `SELECT d.step_id, d.channel, r.outcome, count(*)::int AS count
       FROM delivery_reports r JOIN deliveries d ON d.id = r.delivery_id
      WHERE d.campaign_id = $1 AND d.kind <> 'test'
      GROUP BY 1, 2, 3`,
    [campaignId],
  );
}

/**
 * What the slots not yet fanned out (of these campaigns) still expect, per campaign, step and
 * channel: the audience each was planned for, less the rows its fan-out has made so far.
 * `dueBy`: only the slots whose send time has come by then.
 */
export function expectedFromSlots(
  sql: Sql,
  campaignIds: readonly string[],
  dueBy?: Date,
): Promise<{ campaign_id: string; step_id: string; channel: Channel; count: number }[]> {
  return sql.query(
    `SELECT campaign_id, step_id, channel, sum(greatest(audience - fanned_out_count, 0))::int AS count
       FROM slots
      WHERE campaign_id = ANY($1::text[]) AND state IN ('pending', 'fanning_out')
        AND ($2::timestamptz IS NULL OR send_at <= $2)
      GROUP BY 1, 2, 3`,
    [campaignIds, dueBy ?? null],
  );
}
