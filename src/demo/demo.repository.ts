// The only SQL of the demo: clearing what a previous `demo seed` left, so that seeding again
// starts over (new deadline, new slots, fresh consent), and finding campaigns the demo's made-up
// subscribers would join. Only rows the demo owns are touched: the campaign `demo` whose name
// carries the demo prefix, and the demo's subscriber ids carrying the `demo` tag.

import { inAudience } from '../campaigns/audience.ts';
import { plannableCampaigns } from '../campaigns/campaign.repository.ts';
import { InvalidInput } from '../shared/errors.ts';
import type { Sql } from '../store/pool.ts';
import { DEMO_CAMPAIGN_ID, DEMO_NAME_PREFIX, DEMO_TAG } from './demo-campaign.ts';
import { DEMO_SUBSCRIBERS } from './demo-subscribers.ts';

export interface ClearedDemo {
  readonly campaign: boolean;
  readonly subscribers: number;
}

/** Deletes the previous demo campaign (its steps, slots and deliveries cascade) and demo subscribers. */
export async function clearDemo(sql: Sql): Promise<ClearedDemo> {
  const existing = await sql.one<{ name: string }>('SELECT name FROM campaigns WHERE id = $1 FOR UPDATE', [
    DEMO_CAMPAIGN_ID,
  ]);
  if (existing && !existing.name.startsWith(DEMO_NAME_PREFIX)) {
    throw new InvalidInput(
      `a campaign with id "${DEMO_CAMPAIGN_ID}" exists and was not created by "lastcall demo seed" ` +
        `(its name does not start with "${DEMO_NAME_PREFIX}"): the demo will not replace it`,
    );
  }
  const campaign = (await sql.exec('DELETE FROM campaigns WHERE id = $1', [DEMO_CAMPAIGN_ID])) > 0;
  const subscribers = await sql.exec('DELETE FROM subscribers WHERE id = ANY($1) AND $2 = ANY(tags)', [
    DEMO_SUBSCRIBERS.map((s) => s.id),
    DEMO_TAG,
  ]);
  return { campaign, subscribers };
}

/** Running or paused campaigns (other than the demo) that would plan the demo subscribers in. */
export async function campaignsDemoWouldJoin(sql: Sql, now: number): Promise<string[]> {
  const open = await plannableCampaigns(sql, now);
  return open
    .filter((c) => c.id !== DEMO_CAMPAIGN_ID)
    .filter((c) =>
      DEMO_SUBSCRIBERS.some((s) =>
        inAudience(c.campaign, { tags: [DEMO_TAG], attributes: { assistant: s.assistant } }),
      ),
    )
    .map((c) => c.id);
}

export interface DemoEnd {
  readonly finishedAt: Date;
  /** Deliveries of the campaign by status (sent, delivered, read, skipped, failed…). */
  readonly byStatus: Readonly<Record<string, number>>;
}

/** The demo campaign's end, once the deadline has finished it; undefined while it runs. */
export async function demoEnd(sql: Sql): Promise<DemoEnd | undefined> {
  const campaign = await sql.one<{ finished_at: Date }>(
    "SELECT finished_at FROM campaigns WHERE id = $1 AND state = 'finished'",
    [DEMO_CAMPAIGN_ID],
  );
  if (!campaign) return undefined;
  const rows = await sql.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM deliveries WHERE campaign_id = $1 AND kind <> 'test' GROUP BY status ORDER BY status",
    [DEMO_CAMPAIGN_ID],
  );
  return { finishedAt: campaign.finished_at, byStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])) };
}
