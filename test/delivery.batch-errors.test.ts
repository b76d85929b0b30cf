// A provider error on one message of a page: the messages of a fan-out page go out together (one
// `sendBatch` job), and one message's 5xx or permanent refusal touches that message only. The
// 5xx one is retried on its own job after its backoff and sent once; the refused one fails with
// the provider's code and is never retried; every other message of the page is sent once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { failures } from './fakes/graph-api.ts';
import {
  attemptsOf,
  type DeliveryServices,
  deliveriesOf,
  digits,
  inFlight,
  seedSubscribers,
  slotsNotDone,
  startDeliveryServices,
  startDueCampaign,
  subscriber,
  waitFor,
} from './support/delivery.ts';

let services: DeliveryServices;
let workers: RunningWorkers;

beforeAll(async () => {
  services = await startDeliveryServices();
  workers = await startWorkers(services.config(), { scheduleTick: false, backoff: { baseMs: 20 } });
});

afterAll(async () => {
  await workers?.close(5_000);
  await services?.close();
});

const requestsTo = (phone: string) =>
  services.graph.requests.filter((r) => (r.body as { to?: string } | undefined)?.to === digits(phone)).length;

describe('a provider error on one message of a page', () => {
  it('retries or fails that message only; the others are sent once', { timeout: 60_000 }, async () => {
    const { database, graph } = services;
    const db = database.db;
    const now = Date.now();
    const subs = Array.from({ length: 10 }, (_, i) => subscriber(`pe-${i}`, 700 + i, ['whatsapp']));
    await seedSubscribers(db, subs, now - 3_600_000);
    await startDueCampaign(
      db,
      'page-errors',
      [{ id: 'm10', before: 'PT10M', channels: ['whatsapp'], template: 'first-notice' }],
      now,
    );
    const [flaky, refused] = [subs[3]!, subs[6]!];
    graph.setFailure(failures.serverError(), { to: flaky.phone!, times: 1 });
    graph.setFailure(failures.undeliverable(), { to: refused.phone! });

    expect((await workers.runTick(now)).ran).toBe(true);
    await waitFor('fan-out', async () => (await slotsNotDone(db, now)) === 0);
    await waitFor('every message settled', async () => (await inFlight(db, 'page-errors')) === 0, 30_000);

    const rows = await deliveriesOf(db, 'page-errors');
    expect(rows).toHaveLength(10);
    // One page: the rows that stayed in it still name the same `sendBatch` job; the retried one
    // now names its own job.
    const jobs = await db.query<{ subscriber_id: string; job_id: string }>(
      `SELECT subscriber_id, job_id FROM deliveries WHERE campaign_id = 'page-errors'`,
    );
    const jobOf = new Map(jobs.map((j) => [j.subscriber_id, j.job_id]));
    const pageJobs = new Set(jobs.filter((j) => j.subscriber_id !== flaky.id).map((j) => j.job_id));
    expect([...pageJobs]).toHaveLength(1);
    expect([...pageJobs][0]).toMatch(/^batch-/);
    for (const row of rows) {
      const attempts = await attemptsOf(db, row.id);
      if (row.subscriber_id === flaky.id) {
        expect(row).toMatchObject({ status: 'sent', attempts: 2 });
        expect(attempts).toEqual([
          { outcome: 'retry', error_code: '1' },
          { outcome: 'sent', error_code: null },
        ]);
        expect(jobOf.get(flaky.id)).toBe(`delivery-${row.id}`);
        expect(requestsTo(flaky.phone!)).toBe(2);
      } else if (row.subscriber_id === refused.id) {
        expect(row).toMatchObject({ status: 'failed', error_code: '131026', attempts: 1 });
        expect(attempts).toEqual([{ outcome: 'failed', error_code: '131026' }]);
        expect(requestsTo(refused.phone!)).toBe(1);
      } else {
        expect(row).toMatchObject({ status: 'sent', attempts: 1 });
        expect(attempts).toEqual([{ outcome: 'sent', error_code: null }]);
        expect(requestsTo(row.phone!)).toBe(1);
      }
    }
    for (const s of subs)
      expect(graph.sent().filter((m) => m.to === digits(s.phone!))).toHaveLength(s === refused ? 0 : 1);
  });
});
