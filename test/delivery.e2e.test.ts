// End to end on real PostgreSQL and Redis, with real BullMQ workers in this process and the
// fake Graph API / SMTP server on 127.0.0.1: a campaign with minute-scale steps, driven by an
// injected clock and explicit ticks, delivers every planned message exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import type { ServeConfig } from '../src/config/config.ts';
import { claimDueSlots } from '../src/delivery/fanout.service.ts';
import { queueFanouts } from '../src/delivery/job-queueing.ts';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { openDb } from '../src/store/pool.ts';
import { verifyToken } from '../src/subscribers/tokens.ts';
import {
  type DeliveryServices,
  digits,
  inFlight,
  makeSubscribers,
  type SeedSubscriber,
  seedSubscribers,
  slotsNotDone,
  startCampaign,
  startDeliveryServices,
  statusCounts,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2031-03-10T09:58:00Z');
const DEADLINE = T0 + 5 * MINUTE;
const TEMPLATES = { m4: 'first-notice', m2: 'one-week' } as const;

let services: DeliveryServices;
let config: ServeConfig;
let workers: RunningWorkers;
const clock = new ManualClock(T0);

beforeAll(async () => {
  services = await startDeliveryServices();
  config = services.config();
  workers = await startWorkers(config, { clock, scheduleTick: false, backoff: { baseMs: 10 } });
});

afterAll(async () => {
  await workers?.close(5_000);
  await services?.close();
});

/** One tick at `instant` (or `drive`), then wait until its slots are fanned out and every send settled. */
async function tickAt(instant: number, drive?: () => Promise<void>): Promise<void> {
  clock.set(instant);
  if (drive) await drive();
  else expect((await workers.runTick()).ran).toBe(true);
  await waitFor(
    'due slots fanned out',
    async () => (await slotsNotDone(services.database.db, instant)) === 0,
  );
  // Up to two minutes: at load ~21 one step's sends took over 60 s (docs/testing.md).
  await waitFor('sends settled', async () => (await inFlight(services.database.db, 'e2e')) === 0, 120_000);
}

describe('a campaign with minute-scale steps, 200 subscribers, 6 zones, both channels', () => {
  let subscribers: SeedSubscriber[];

  it('plans slots per zone, not per subscriber', async () => {
    subscribers = makeSubscribers(200);
    await seedSubscribers(services.database.db, subscribers, T0 - 60 * MINUTE);
    const started = await startCampaign(
      services.database.db,
      {
        id: 'e2e',
        deadline: DEADLINE,
        steps: [
          { id: 'm4', before: 'PT4M', channels: ['whatsapp', 'email'], template: TEMPLATES.m4 },
          { id: 'm2', before: 'PT2M', channels: ['whatsapp', 'email'], template: TEMPLATES.m2 },
        ],
      },
      T0,
    );
    // 2 steps × 6 zones × 2 channels: 24 slots for 200 subscribers.
    expect(started.slotsCreated).toBe(24);
  });

  it('sends nothing before a slot is due', async () => {
    await tickAt(T0 + 30_000);
    expect(services.graph.sent()).toHaveLength(0);
    expect(services.smtp.messages).toHaveLength(0);
  });

  // Each step's tick fans out 12 slots and settles ~270 sends (WhatsApp and email) through the
  // workers, fakes and test in this one process, waiting on PostgreSQL for each (tickAt). The
  // whole test took 9.6 s at load ~11; at load ~18 one step's tick alone took 31 s (tick 3.6 s,
  // fan-out 6.3 s, sends 20.8 s), so two overran the default 30 s. The budget covers tickAt's own
  // waits (fan-out 20 s, sends 120 s) for the two steps, so a real stall fails on the wait that
  // names what it waited for.
  it('delivers each step once per subscriber and channel, in their language, with working links', {
    timeout: 300_000,
  }, async () => {
    // Two ticks at once (two worker processes whose schedulers fire together): one does the work.
    await tickAt(T0 + MINUTE, async () => {
      const reports = await Promise.all([workers.runTick(), workers.runTick()]);
      const claimed = reports.flatMap((r) => (r.ran ? r.claimedSlots : []));
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed).toHaveLength(12);
    });
    await tickAt(T0 + 2 * MINUTE); // nothing new due: a repeated tick is harmless
    // Even without the tick's lock, two claims at once split the due slots between them.
    await tickAt(T0 + 3 * MINUTE, async () => {
      const other = openDb({ databaseUrl: services.database.url });
      try {
        const [a, b] = await Promise.all([
          claimDueSlots({ db: services.database.db }, clock.now()),
          claimDueSlots({ db: other }, clock.now()),
        ]);
        expect(a.filter((id) => b.includes(id))).toEqual([]);
        expect(a.length + b.length).toBe(12);
        await queueFanouts(workers.queues, [...a, ...b]);
      } finally {
        await other.close();
      }
    });

    const withWhatsApp = subscribers.filter((s) => s.channels.includes('whatsapp'));
    const withEmail = subscribers.filter((s) => s.channels.includes('email'));
    const sent = services.graph.sent();
    expect(sent).toHaveLength(withWhatsApp.length * 2);
    expect(services.smtp.messages).toHaveLength(withEmail.length * 2);

    for (const s of withWhatsApp) {
      const mine = sent.filter((m) => m.to === digits(s.phone!));
      const names = mine.map((m) => m.template?.name).sort();
      expect(names).toEqual(['lastcall_ai_assistants_first_notice', 'lastcall_ai_assistants_one_week']);
      for (const m of mine) {
        expect(m.template?.language).toBe(s.locale);
        // Body parameters: the subscriber's name (or the nameless greeting) comes first.
        const body = m.template?.components.find((c) => (c as { type: string }).type === 'body') as
          | { parameters: { text: string }[] }
          | undefined;
        expect(body?.parameters[0]?.text).toBe(
          s.name === '' ? (s.locale === 'fr' ? 'à vous' : 'there') : s.name,
        );
        expect(m.callbackData).toMatch(/^\d+$/);
        // The URL button carries a done token for this subscriber.
        const button = m.template?.components.find((c) => (c as { type: string }).type === 'button') as
          | { parameters: { text: string }[] }
          | undefined;
        const token = verifyToken(config.secretKey!, button?.parameters[0]?.text ?? '', 'done', clock.now());
        expect(token.ok && token.token.subscriberId).toBe(s.id);
      }
    }

    for (const s of withEmail) {
      const mine = services.smtp.messages.filter((m) => m.envelope.rcptTo.includes(s.email!));
      expect(mine).toHaveLength(2);
      for (const m of mine) {
        expect(m.parsed.subject).toMatch(s.locale === 'fr' ? /WhatsApp/ : /WhatsApp/);
        expect(m.parsed.subject).toMatch(s.locale === 'fr' ? /Fin de|Rappel/ : /end of|Reminder/i);
        expect(m.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
        const link = /<(https:\/\/lastcall\.example\.org\/unsubscribe\/([^>]+))>/.exec(
          m.headers['list-unsubscribe'] ?? '',
        );
        expect(link).not.toBeNull();
        const token = verifyToken(config.secretKey!, link![2]!, 'unsubscribe', clock.now());
        expect(token.ok && token.token).toMatchObject({ subscriberId: s.id, channel: 'email' });
        expect(m.parsed.messageId).toMatch(/^<delivery-\d+\.e2e@lastcall\.example\.org>$/);
        expect(m.parsed.text).toContain(link![1]);
      }
    }
    const messageIds = services.smtp.messages.map((m) => m.parsed.messageId);
    expect(new Set(messageIds).size).toBe(messageIds.length);

    const total = (withWhatsApp.length + withEmail.length) * 2;
    expect(await statusCounts(services.database.db, 'e2e')).toEqual({ sent: total });
    const attempts = await services.database.db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_attempts WHERE outcome = 'sent'`,
    );
    expect(attempts?.n).toBe(total);

    const stats = await createCampaignService({ db: services.database.db }).stats('e2e', clock.now());
    for (const row of stats.steps) {
      const expected = row.channel === 'whatsapp' ? withWhatsApp.length : withEmail.length;
      const arrived =
        row.channel === 'whatsapp'
          ? sent.filter(
              (m) =>
                m.template?.name ===
                `lastcall_ai_assistants_${TEMPLATES[row.step as 'm4' | 'm2'].replace('-', '_')}`,
            ).length
          : services.smtp.messages.filter((m) => m.parsed.messageId?.includes('.e2e@')).length / 2;
      expect(row).toMatchObject({
        planned: expected,
        sent: expected,
        queued: 0,
        failed: 0,
        skipped: 0,
        unknown: 0,
      });
      expect(arrived).toBe(expected);
    }
  });

  it('finishes the campaign at its deadline and sends nothing more', async () => {
    const before = services.graph.sent().length + services.smtp.messages.length;
    clock.set(DEADLINE + MINUTE);
    const report = await workers.runTick();
    expect(report.ran && report.finishedCampaigns).toEqual(['e2e']);
    const row = await services.database.db.one<{ state: string }>(
      `SELECT state FROM campaigns WHERE id = 'e2e'`,
    );
    expect(row?.state).toBe('finished');
    expect(services.graph.sent().length + services.smtp.messages.length).toBe(before);
  });
});
