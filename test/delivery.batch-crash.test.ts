// A `lastcall work` process killed with SIGKILL in the middle of a page (a `sendBatch` job):
// one message of the page hangs at the provider while its page-mates have been answered, so the
// whole page is claimed (`sending`) and its outcomes are not written yet. After the kill and a
// replacement worker: exactly the rows that were `sending` end `unknown` (the provider may have
// them; they are never sent again), every other row is sent, and nobody receives a message twice.
import { describe, expect, it } from 'vitest';
import { failures } from './fakes/graph-api.ts';
import * as h from './support/crash.ts';
import {
  deliveriesOf,
  digits,
  seedSubscribers,
  startDueCampaign,
  subscriber,
  type WorkerProcess,
  waitFor,
} from './support/delivery.ts';

// 20 a second: pages of 5 (catalog: sendBatchSize), so the 100 messages make 20 pages and a
// worker holds a few of them at a time.
const RATE = '20';
const SUBSCRIBERS = 100;

h.useCrashHarness();

function worker(): Promise<WorkerProcess> {
  return h.spawnCrashWorker({ WHATSAPP_RATE: RATE });
}

const requestsTo = (phone: string) =>
  h.services.graph.requests.filter((r) => (r.body as { to?: string } | undefined)?.to === digits(phone))
    .length;

describe('a worker killed in the middle of a page', () => {
  it('leaves the page in flight `unknown`, sends the rest, and nothing twice', {
    timeout: 120_000,
  }, async () => {
    const { database, graph } = h.services;
    const db = database.db;
    const now = Date.now();
    const subs = Array.from({ length: SUBSCRIBERS }, (_, i) =>
      subscriber(`bk-${String(i).padStart(3, '0')}`, 800 + i, ['whatsapp']),
    );
    await seedSubscribers(db, subs, now - 3_600_000);
    await startDueCampaign(
      db,
      'page-crash',
      [{ id: 'm10', before: 'PT10M', channels: ['whatsapp'], template: 'first-notice' }],
      now,
    );
    // The middle message of the third page never gets an answer.
    const hung = subs[12]!;
    const lastOfPage = subs[14]!;
    graph.setFailure(failures.hang(), { to: hung.phone!, times: 1 });

    const first = await worker();
    await h.tick();
    await waitFor(
      'the hung message and the rest of its page at the provider',
      () => requestsTo(hung.phone!) === 1 && requestsTo(lastOfPage.phone!) === 1,
      30_000,
    );
    await first.stop('SIGKILL');

    const atKill = await deliveriesOf(db, 'page-crash');
    const sendingAtKill = atKill.filter((r) => r.status === 'sending').map((r) => r.subscriber_id);
    // The kill landed mid-page: its messages answered by the provider are still `sending`.
    expect(sendingAtKill).toEqual(expect.arrayContaining(subs.slice(10, 15).map((s) => s.id)));
    expect(atKill.filter((r) => r.status === 'queued').length).toBeGreaterThan(0);

    await worker();
    await waitFor(
      'every delivery settled',
      async () => {
        await h.tick();
        const rows = await deliveriesOf(db, 'page-crash');
        return rows.every((r) => r.status === 'sent' || r.status === 'unknown');
      },
      90_000,
      500,
    );

    const rows = await deliveriesOf(db, 'page-crash');
    expect(rows).toHaveLength(SUBSCRIBERS);
    const unknown = rows.filter((r) => r.status === 'unknown').map((r) => r.subscriber_id);
    expect(unknown.sort()).toEqual([...sendingAtKill].sort());
    // Never sent again: a sent row was requested once; an `unknown` one at most once (a row
    // of a claimed page may have been still waiting at the rate gate when the kill came).
    for (const r of rows) {
      const received = graph.sent().filter((m) => m.to === digits(r.phone!)).length;
      const requested = requestsTo(r.phone!);
      if (r.status === 'sent') expect([requested, received], r.subscriber_id).toEqual([1, 1]);
      else expect(requested, r.subscriber_id).toBeLessThanOrEqual(1);
    }
    expect(requestsTo(hung.phone!)).toBe(1);
    // The hung one's page-mates reached the provider once though their row says `unknown`.
    for (const s of [subs[10]!, subs[11]!, subs[13]!, subs[14]!])
      expect(graph.sent().filter((m) => m.to === digits(s.phone!))).toHaveLength(1);
  });
});
