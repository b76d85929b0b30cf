// The SMTP server down for a while (docs/operations.md, "Outages"): first refusing connections,
// then answering "421 service not available", then accepting again. The emails wait in their queue,
// spending none of their attempts (the outage outlasts the 8 a message has), and go out once it is
// back, before the deadline, each exactly once. The worker logs the outage once and its end once.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../src/queue/catalog.ts';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { ManualClock } from '../src/shared/clock.ts';
import {
  type DeliveryServices,
  deliveriesOf,
  inFlight,
  receivedPerDelivery,
  seedSubscribers,
  slotsNotDone,
  startCampaign,
  startDeliveryServices,
  subscriber,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;
const BASE = Date.parse('2031-06-02T07:00:00Z');
const DEADLINE = BASE + 5 * MINUTE;
const clock = new ManualClock(BASE);
const logLines: string[] = [];
let services: DeliveryServices;
let workers: RunningWorkers;

beforeAll(async () => {
  services = await startDeliveryServices();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  workers = await startWorkers(services.config(), {
    clock,
    scheduleTick: false,
    backoff: { baseMs: 20 },
    timeouts: { emailTimeoutMs: 2_000 },
    logger: pino({ level: 'info' }, sink),
  });
});

afterAll(async () => {
  await workers?.close(5_000);
  await services?.close();
});

const countAttempts = async (code: string) =>
  (await services.database.db.one<{ n: number; most: number }>(
    `SELECT count(*)::int AS n, coalesce(max(d.attempts), 0)::int AS most
         FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.campaign_id = 'smtp-outage' AND a.error_code = $1`,
    [code],
  ))!;

describe('an SMTP server that refuses, then answers 421, then accepts', () => {
  it('holds the emails and sends each once when it is back, before the deadline', {
    timeout: 60_000,
  }, async () => {
    const { database, smtp } = services;
    const subs = Array.from({ length: 12 }, (_, i) => subscriber(`so-${i}`, 400 + i, ['email']));
    await seedSubscribers(database.db, subs, BASE - 60 * MINUTE);
    await startCampaign(
      database.db,
      {
        id: 'smtp-outage',
        deadline: DEADLINE,
        steps: [{ id: 'm4', before: 'PT4M', channels: ['email'], template: 'first-notice' }],
      },
      BASE,
    );

    await smtp.setAvailability('refuse');
    clock.set(BASE + MINUTE);
    expect((await workers.runTick()).ran).toBe(true);
    await waitFor('fan-out', async () => (await slotsNotDone(database.db, BASE + MINUTE)) === 0);
    // Refused for longer than a message's whole attempt budget would last.
    const budget = jobs.send.options.attempts;
    await waitFor('more refusals than a message has attempts', async () => {
      return (await countAttempts('unreachable')).most > budget;
    });
    await smtp.setAvailability('busy');
    await waitFor('421 answers', async () => (await countAttempts('421')).n >= 3);
    expect(smtp.messages).toHaveLength(0);
    expect(await inFlight(database.db, 'smtp-outage')).toBe(subs.length); // waiting, none failed

    await smtp.setAvailability('accept');
    await waitFor('every email sent', async () => (await inFlight(database.db, 'smtp-outage')) === 0, 30_000);

    const rows = await deliveriesOf(database.db, 'smtp-outage');
    expect(rows.map((r) => r.status)).toEqual(Array(subs.length).fill('sent'));
    const received = receivedPerDelivery(services);
    expect(rows.map((r) => received.get(r.id))).toEqual(Array(subs.length).fill(1));
    const sentAt = await database.db.query<{ sent_at: Date }>(
      `SELECT sent_at FROM deliveries WHERE campaign_id = 'smtp-outage'`,
    );
    expect(sentAt.every((r) => r.sent_at.getTime() < DEADLINE)).toBe(true);
    expect(smtp.busyAnswers()).toBeGreaterThanOrEqual(3);

    const messages = logLines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(messages.filter((m) => m.startsWith('email provider unavailable'))).toHaveLength(1);
    expect(messages.filter((m) => m.startsWith('email provider is back'))).toHaveLength(1);
  });
});
