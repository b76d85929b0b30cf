// Which steps of a campaign need more people than WhatsApp's portfolio messaging limit lets
// through in their 24 h, and how many would be held back (docs/whatsapp.md): the campaign's own
// plan for the stored subscribers (plan-preview.ts), replayed through the gate's rule
// (planning/messaging-limit.ts) from the people already messaged in the last 24 h. A campaign with
// `messagingLimit: { spread: true }` has its steps spread over earlier days first
// (planning/spread.ts): `campaign start` stores those parts as slots. Said by `campaign start`
// (and the API's start answer) and the console.
import { limitInForce, peopleInWindow } from '../delivery/messaging-limit.gate.ts';
import { type LimitedSend, simulateMessagingLimit } from '../planning/messaging-limit.ts';
import { formatLocal, formatUtc, latestSendBefore } from '../planning/planner.ts';
import {
  partOf,
  type SpreadPlan,
  type SpreadSend,
  type StepSpread,
  spreadPlan,
  spreadText,
} from '../planning/spread.ts';
import type { SendKind } from '../planning/types.ts';
import { NotFound } from '../shared/errors.ts';
import type { Sql } from '../store/pool.ts';
import { findCampaign } from './campaign.repository.ts';
import { type Campaign, toSchedule } from './campaign.schema.ts';
import { planPreview } from './plan-preview.ts';

export interface MessagingLimitReport {
  /** People per rolling 24 h; `unlimited` never holds anyone back. */
  readonly limit: number | 'unlimited';
  /** WHATSAPP_MESSAGING_LIMIT, or what Meta last reported. */
  readonly source: 'WHATSAPP_MESSAGING_LIMIT' | 'meta';
  /** Steps with WhatsApp sends, in the order they first send, each with the people held back and,
   *  spread or not, the people of each part (earliest first; one part: not spread). */
  readonly steps: readonly StepSpread[];
  /** Sum over the steps. */
  readonly heldBack: number;
}

/** The report and, for a campaign that spreads, the spread its slots follow. */
export interface LimitPlan {
  readonly report: MessagingLimitReport;
  /** Set when the campaign spreads (messagingLimit.spread) and the limit is a number. */
  readonly spread?: SpreadPlan;
  /** Its WhatsApp sends as planned before spreading (the people of each zone and step). */
  readonly sends: readonly SpreadSend[];
}

/** Undefined when no limit is known (WhatsApp off, never read, no override). `fixedParts`: the
 *  parts a started campaign's slots already have. */
export async function messagingLimitPlan(
  sql: Sql,
  campaignId: string,
  now: number,
  override: number | 'unlimited' | undefined,
  fixedParts?: ReadonlyMap<string, number>,
): Promise<LimitPlan | undefined> {
  const limit = await limitInForce(sql, override);
  if (limit === undefined) return undefined;
  const record = await findCampaign(sql, campaignId);
  if (!record) throw new NotFound('campaign', campaignId);
  const sends: SpreadSend[] = [];
  for await (const chunk of await planPreview(sql, campaignId, now))
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      const s = previewLine(line);
      if (s.channel === 'whatsapp')
        sends.push({
          person: s.subscriber,
          zone: s.zone,
          country: s.country ?? '',
          step: s.step,
          at: Date.parse(s.sendAt),
          kind: s.kind,
        });
    }
  const counted = await peopleInWindow(sql, now);
  const source = override === undefined ? 'meta' : 'WHATSAPP_MESSAGING_LIMIT';
  const spread = spreads(record.campaign) && limit !== 'unlimited';
  if (spread) {
    const plan = spreadPlan(sends, {
      limit,
      counted,
      now,
      maxDays: record.campaign.messagingLimit?.maxDays ?? 0,
      latestBefore: latestSendBefore(toSchedule(record.campaign)),
      ...(fixedParts ? { fixedParts } : {}),
    });
    return { report: reportOf(limit, source, plan.steps), spread: plan, sends };
  }
  const limited: LimitedSend[] = sends.map((s) => ({ person: s.person, step: s.step, at: s.at }));
  const steps = simulateMessagingLimit(limited, limit, counted).map((s) => ({ ...s, parts: [s.people] }));
  return { report: reportOf(limit, source, steps), sends };
}

/** One NDJSON line of the plan preview (docs/campaigns.md, "Previewing a plan"), the fields read here. */
interface PreviewLine {
  readonly subscriber: string;
  readonly step: string;
  readonly channel: string;
  readonly sendAt: string;
  readonly zone: string;
  readonly country?: string;
  readonly kind: SendKind;
}

const previewLine = (line: string) => JSON.parse(line) as PreviewLine;

/** Whether the campaign file asks for spreading (messagingLimit.spread). */
export function spreads(campaign: Campaign): boolean {
  return (
    campaign.messagingLimit?.spread === true && campaign.steps.some((s) => s.channels.includes('whatsapp'))
  );
}

function reportOf(
  limit: number | 'unlimited',
  source: MessagingLimitReport['source'],
  steps: readonly StepSpread[],
): MessagingLimitReport {
  return { limit, source, steps, heldBack: steps.reduce((sum, s) => sum + s.heldBack, 0) };
}

/** Undefined when no limit is known (WhatsApp off, never read, no override). */
export async function messagingLimitReport(
  sql: Sql,
  campaignId: string,
  now: number,
  override: number | 'unlimited' | undefined,
): Promise<MessagingLimitReport | undefined> {
  const parts = await storedParts(sql, campaignId);
  return (await messagingLimitPlan(sql, campaignId, now, override, parts.size > 0 ? parts : undefined))
    ?.report;
}

/** The parts each spread step of a started campaign was given (empty: none spread, or a draft). */
async function storedParts(sql: Sql, campaignId: string): Promise<Map<string, number>> {
  const rows = await sql.query<{ step_id: string; parts: number }>(
    `SELECT step_id, max(parts)::int AS parts FROM slots
      WHERE campaign_id = $1 AND channel = 'whatsapp' AND kind = 'scheduled' GROUP BY step_id`,
    [campaignId],
  );
  return new Map(rows.map((r) => [r.step_id, r.parts]));
}

/** One line per spread step, for a terminal: "step d7: 300 people on WhatsApp spread over 2 days (150 + 150) …". */
export function limitNotes(report: MessagingLimitReport | undefined): string[] {
  if (!report || report.limit === 'unlimited') return [];
  return report.steps.flatMap((s) => {
    const text = spreadText(s);
    return text
      ? [
          `step ${s.step}: ${text} on WhatsApp, under the messaging limit ${report.limit} people in 24 h (${sourceText(report)})`,
        ]
      : [];
  });
}

/** One line per step over the limit, for a terminal: "step d7: 300 people, 50 held back (limit 250 in 24 h)". */
export function limitWarnings(report: MessagingLimitReport | undefined): string[] {
  if (!report || report.limit === 'unlimited') return [];
  return report.steps
    .filter((s) => s.heldBack > 0)
    .map((s) =>
      s.parts.length > 1
        ? `step ${s.step}: ${spreadText(s)} on WhatsApp, and still ${s.heldBack} will be held back (messaging limit ${report.limit} people in 24 h, ${sourceText(report)})`
        : `step ${s.step}: ${s.people} people on WhatsApp, ${s.heldBack} will be held back (messaging limit ${report.limit} people in 24 h, ${sourceText(report)})`,
    );
}

const sourceText = (report: MessagingLimitReport) =>
  report.source === 'meta' ? "Meta's" : 'WHATSAPP_MESSAGING_LIMIT';

/**
 * The plan preview (API: GET /campaigns/{id}/plan) of a campaign that spreads (docs/whatsapp.md):
 * each WhatsApp send of a spread step at its part's time, with `part` and `parts`; any other
 * campaign's lines as planPreview makes them. Throws NotFound before the first line.
 */
export async function spreadPlanPreview(
  sql: Sql,
  campaignId: string,
  now: number,
  override: number | 'unlimited' | undefined,
): Promise<AsyncGenerator<string>> {
  const lines = await planPreview(sql, campaignId, now);
  const record = await findCampaign(sql, campaignId);
  if (!record || !spreads(record.campaign)) return lines;
  const parts = await storedParts(sql, campaignId);
  const plan = await messagingLimitPlan(sql, campaignId, now, override, parts.size > 0 ? parts : undefined);
  return plan?.spread ? inParts(lines, plan.spread) : lines;
}

async function* inParts(lines: AsyncGenerator<string>, spread: SpreadPlan): AsyncGenerator<string> {
  for await (const chunk of lines) {
    let out = '';
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      const s = previewLine(line);
      const parts = s.channel === 'whatsapp' && s.kind === 'scheduled' ? (spread.parts.get(s.step) ?? 1) : 1;
      if (parts < 2) {
        out += `${line}\n`;
        continue;
      }
      const zone = s.zone;
      const part = partOf(s.subscriber, parts);
      const at = spread.partTimes(zone, Date.parse(s.sendAt), parts, s.country ?? '')[part]!;
      out += `${JSON.stringify({ ...s, sendAt: formatUtc(at), local: formatLocal(at, zone), part, parts })}\n`;
    }
    if (out !== '') yield out;
  }
}
