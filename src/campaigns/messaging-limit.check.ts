// Which steps of a campaign need more people than WhatsApp's portfolio messaging limit lets
// through in their 24 h, and how many would be held back (docs/whatsapp.md): the campaign's own
// plan for the stored subscribers (plan-preview.ts), replayed through the gate's rule
// (planning/messaging-limit.ts) from the people already messaged in the last 24 h. Said by
// `campaign start` (and the API's start answer) and the console.
import { limitInForce, peopleInWindow } from '../delivery/messaging-limit.gate.ts';
import { type LimitedSend, type StepLimit, simulateMessagingLimit } from '../planning/messaging-limit.ts';
import type { Sql } from '../store/pool.ts';
import { planPreview } from './plan-preview.ts';

export interface MessagingLimitReport {
  /** People per rolling 24 h; `unlimited` never holds anyone back. */
  readonly limit: number | 'unlimited';
  /** WHATSAPP_MESSAGING_LIMIT, or what Meta last reported. */
  readonly source: 'WHATSAPP_MESSAGING_LIMIT' | 'meta';
  /** Steps with WhatsApp sends, in the campaign's order, each with the people held back. */
  readonly steps: readonly StepLimit[];
  /** Sum over the steps. */
  readonly heldBack: number;
}

/** Undefined when no limit is known (WhatsApp off, never read, no override). */
export async function messagingLimitReport(
  sql: Sql,
  campaignId: string,
  now: number,
  override: number | 'unlimited' | undefined,
): Promise<MessagingLimitReport | undefined> {
  const limit = await limitInForce(sql, override);
  if (limit === undefined) return undefined;
  const sends: LimitedSend[] = [];
  for await (const chunk of await planPreview(sql, campaignId, now))
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      const s = JSON.parse(line) as { subscriber: string; step: string; channel: string; sendAt: string };
      if (s.channel === 'whatsapp')
        sends.push({ person: s.subscriber, step: s.step, at: Date.parse(s.sendAt) });
    }
  const steps = simulateMessagingLimit(sends, limit, await peopleInWindow(sql, now));
  return {
    limit,
    source: override === undefined ? 'meta' : 'WHATSAPP_MESSAGING_LIMIT',
    steps,
    heldBack: steps.reduce((sum, s) => sum + s.heldBack, 0),
  };
}

/** One line per step over the limit, for a terminal: "step d7: 300 people, 50 held back (limit 250 in 24 h)". */
export function limitWarnings(report: MessagingLimitReport | undefined): string[] {
  if (!report || report.limit === 'unlimited') return [];
  return report.steps
    .filter((s) => s.heldBack > 0)
    .map(
      (s) =>
        `step ${s.step}: ${s.people} people on WhatsApp, ${s.heldBack} will be held back (messaging limit ${report.limit} people in 24 h, ${report.source === 'meta' ? "Meta's" : 'WHATSAPP_MESSAGING_LIMIT'})`,
    );
}
