// Spreading a step under WhatsApp's messaging limit end to end (docs/whatsapp.md, "Spreading a
// step over earlier days"): the sandbox reports TIER_250 and, as Meta does, fails template
// messages to more than 250 people in its rolling 24 h. A campaign with `messagingLimit: { spread:
// true }` and a 300-person WhatsApp step: `campaign start` says the step is spread over 2 days and
// stores two part slots; real `lastcall serve` and `lastcall work` processes send the earlier part,
// then, a day and more later, the step's own part. Everyone is reached, nobody is held back, Meta
// refuses nobody. The workers run on the real clock, so the day between the parts is travelled
// through: the gate's record of who was messaged (whatsapp_people_messaged) and the sandbox's clock
// move a day and more on, as they would have. (Without the key, the same step holds 50 back:
// whatsapp.messaging-limit.e2e.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivityService } from '../src/campaigns/activity.service.ts';
import { createCampaignService, planSubscribers } from '../src/campaigns/campaign.service.ts';
import { partOf } from '../src/planning/spread.ts';
import type { Sandbox } from '../src/sandbox/sandbox.service.ts';
import { runCli } from './support/cli.ts';
import type { TestDatabase } from './support/db.ts';
import { seedSubscribers, statusCounts, subscriber, waitFor, writeCampaignFile } from './support/delivery.ts';
import { type SandboxStack, startSandboxStack, startUnderTier250 } from './support/sandbox-stack.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const CAMPAIGN = 'limit-250-spread';
const APP_SECRET = 'limit-spread-e2e-app-secret';
/** Subscribers who join while the campaign runs, one of each part. */
const JOINERS = 2;

let stack: SandboxStack;
let database: TestDatabase;
let sandbox: Sandbox;
let env: Record<string, string>;
const now = Date.now();
/** How far the sandbox's clock is ahead of the real one (the day travelled through). */
let travelled = 0;
// Set when the campaign is written: the step's own time is 25 h 3 min later (PT1H before the
// deadline), and its earlier part, one day and the margin (1 h) before, 3 minutes later.
let deadline = 0;
let stepAt = 0;
let earlierAt = 0;

beforeAll(async () => {
  stack = await startSandboxStack({
    name: 'limit-spread-e2e',
    appSecret: APP_SECRET,
    idSuffix: '44',
    sandbox: { clock: () => new Date(Date.now() + travelled) },
    env: { LASTCALL_ENV: 'development' },
  });
  ({ database, sandbox, env } = stack);
  // 300 people on WhatsApp only, in Paris (one zone: one slot, one 24 h).
  await startUnderTier250(stack, { count: 300, phoneBase: 3_000_000, consentAt: now - 60 * MINUTE });
}, 90_000);

afterAll(async () => {
  await stack?.close();
});

/** Sent (sent, delivered, read) and skipped deliveries of the campaign, waiting until none is in flight. */
async function settled(total: number): Promise<Record<string, number>> {
  return waitFor(
    `${total} deliveries settled`,
    async () => {
      const c = await statusCounts(database.db, CAMPAIGN);
      const all = Object.values(c).reduce((a, b) => a + b, 0);
      if (all === total && (c.queued ?? 0) + (c.sending ?? 0) + (c.retrying ?? 0) === 0) return c;
      throw new Error(`deliveries ${JSON.stringify(c)}`);
    },
    60_000,
  );
}

const sentCount = (c: Record<string, number>) => (c.sent ?? 0) + (c.delivered ?? 0) + (c.read ?? 0);

describe('a 300-person step under a 250 messaging limit, spread over the days before it', {
  timeout: 120_000,
}, () => {
  let parts: { part: number; send_at: Date; audience: number }[] = [];

  it('campaign start says the step is spread over 2 days and stores one slot per part', async () => {
    deadline = Math.ceil(Date.now() / MINUTE) * MINUTE + 26 * HOUR + 3 * MINUTE;
    stepAt = deadline - HOUR;
    earlierAt = stepAt - 25 * HOUR;
    const file = await writeCampaignFile({
      id: CAMPAIGN,
      deadline,
      messagingLimit: { spread: true },
      steps: [{ id: 'd1', before: 'PT1H', channels: ['whatsapp'], template: 'first-notice' }],
    });
    expect((await runCli(['campaign', 'create', '--file', file], env)).code).toBe(0);
    const start = await runCli(['campaign', 'start', CAMPAIGN], env);
    expect(start.code).toBe(0);
    expect(start.stderr).not.toContain('held back');
    const said =
      /step d1: 300 people spread over 2 days \((\d+) \+ (\d+)\) on WhatsApp, under the messaging limit 250 people in 24 h \(Meta's\)/.exec(
        start.stdout,
      );
    expect(said, start.stdout).not.toBeNull();
    parts = await database.db.query<{ part: number; send_at: Date; audience: number }>(
      `SELECT part, send_at, audience FROM slots WHERE campaign_id = $1 ORDER BY send_at`,
      [CAMPAIGN],
    );
    // Earliest first, as the start line lists them; each part within the limit, 300 in all.
    expect(parts.map((p) => [p.part, p.send_at.getTime(), p.audience])).toEqual([
      [1, earlierAt, Number(said![1])],
      [0, stepAt, Number(said![2])],
    ]);
    for (const p of parts) expect(p.audience).toBeLessThanOrEqual(250);
    expect(parts[0]!.audience + parts[1]!.audience).toBe(300);
    // What the console's campaign page shows while it runs: the parts it was started with.
    const report = await createCampaignService({ db: database.db }).messagingLimit(CAMPAIGN, Date.now());
    expect(report).toMatchObject({ limit: 250, source: 'meta', heldBack: 0 });
    expect(report?.steps).toEqual([
      { step: 'd1', people: 300, heldBack: 0, parts: [parts[0]!.audience, parts[1]!.audience] },
    ]);
    // The API's plan preview puts each send at its part's time.
    const lines: { sendAt: string; part: number; parts: number }[] = [];
    for await (const chunk of await createActivityService({ db: database.db }).planPreview(
      CAMPAIGN,
      Date.now(),
    ))
      for (const line of chunk.split('\n')) if (line !== '') lines.push(JSON.parse(line));
    const byTime = new Map<string, number>();
    for (const l of lines)
      byTime.set(
        `${l.sendAt} part ${l.part} of ${l.parts}`,
        (byTime.get(`${l.sendAt} part ${l.part} of ${l.parts}`) ?? 0) + 1,
      );
    expect(Object.fromEntries(byTime)).toEqual({
      [`${new Date(earlierAt).toISOString().replace('.000', '')} part 1 of 2`]: parts[0]!.audience,
      [`${new Date(stepAt).toISOString().replace('.000', '')} part 0 of 2`]: parts[1]!.audience,
    });
    // The console's plan chart: each part's people in its own hour, 300 in all (not 300 twice).
    const byHour = await createActivityService({ db: database.db }).planByHour(CAMPAIGN, Date.now());
    expect(byHour?.total).toBe(300);
    const hourOf = (at: number) => byHour!.hours.indexOf(Math.floor(at / HOUR) * HOUR);
    const perHour = (i: number) => byHour!.zones.reduce((sum, z) => sum + (z.sends[i] ?? 0), 0);
    expect([perHour(hourOf(earlierAt)), perHour(hourOf(stepAt))]).toEqual([
      parts[0]!.audience,
      parts[1]!.audience,
    ]);
  });

  it('sends the earlier part a day and more before the step, within the limit', async () => {
    await stack.tick(earlierAt);
    const counts = await settled(parts[0]!.audience);
    expect(sentCount(counts)).toBe(parts[0]!.audience);
    expect(sandbox.graph.peopleIn24h()).toBe(parts[0]!.audience);
    expect(sandbox.graph.limitRefused()).toEqual([]);
  });

  it('plans a subscriber who joins after the earlier part went out at the step’s own time, alone', async () => {
    const late = (part: number) => {
      for (let i = 0; ; i++) if (partOf(`late-${i}`, 2) === part) return `late-${i}`;
    };
    const joiners = [late(1), late(0)].map((id, i) =>
      subscriber(id, 3_000_900 + i, ['whatsapp'], { phone: `+33613${String(900 + i).padStart(6, '0')}` }),
    );
    await seedSubscribers(database.db, joiners, Date.now());
    expect(
      (
        await planSubscribers(
          database.db,
          joiners.map((j) => j.id),
          Date.now(),
        )
      ).subscribers,
    ).toBe(2);
    // The part-1 joiner's part has gone: a personal slot at the step's time. The part-0 joiner
    // goes with part 0's slot, still ahead.
    expect(
      await database.db.query(
        `SELECT subscriber_id, kind, send_at FROM slots WHERE campaign_id = $1 AND subscriber_id IS NOT NULL`,
        [CAMPAIGN],
      ),
    ).toEqual([{ subscriber_id: joiners[0]!.id, kind: 'catch-up', send_at: new Date(stepAt) }]);
  });

  it('sends the step’s own part at its time: all 302 reached (300 and the 2 joiners), none held back, Meta refuses none', async () => {
    // A day and the margin pass: the people of the earlier part leave Meta's rolling 24 h.
    const day = stepAt - earlierAt;
    await database.db.exec(
      `UPDATE whatsapp_people_messaged SET last_at = last_at - make_interval(secs => $1::double precision / 1000)`,
      [day],
    );
    travelled += day;
    await stack.tick(stepAt);
    const counts = await settled(300 + JOINERS);
    expect(sentCount(counts)).toBe(300 + JOINERS);
    const held = await database.db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1 AND status = 'skipped'`,
      [CAMPAIGN],
    );
    expect(held?.n).toBe(0);
    // Meta's rolling 24 h: only the step's own part now, and nobody ever refused for the limit.
    expect(sandbox.graph.peopleIn24h()).toBe(parts[1]!.audience + JOINERS);
    expect(sandbox.graph.limitRefused()).toEqual([]);
    expect(new Set(sandbox.graph.sent().map((m) => m.to)).size).toBe(300 + JOINERS);
    // Each delivery came from its own part's slot.
    const bySlot = await database.db.query<{ part: number; n: number }>(
      `SELECT s.part, count(*)::int AS n FROM deliveries d JOIN slots s ON s.id = d.slot_id
        WHERE d.campaign_id = $1 GROUP BY s.part ORDER BY s.part`,
      [CAMPAIGN],
    );
    expect(bySlot).toEqual([
      { part: 0, n: parts[1]!.audience + JOINERS },
      { part: 1, n: parts[0]!.audience },
    ]);
  });

  it('campaign stats shows nothing held back', async () => {
    const stats = await runCli(['campaign', 'stats', CAMPAIGN], env);
    expect(stats.code).toBe(0);
    expect(stats.stdout).not.toContain('messaging-limit');
  });
});
