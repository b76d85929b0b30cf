// Crashes: `lastcall work` child processes killed with SIGKILL during fan-out and during sending,
// then replaced. Nothing is lost and nothing is sent twice: every delivery ends `sent`, or
// `unknown` when it was in a sender's hands at the kill, and the providers never receive one
// (subscriber, step, channel) twice.
import { describe, expect, it } from 'vitest';
import * as h from './support/crash.ts';
import {
  deliveriesOf,
  digits,
  makeSubscribers,
  seedSubscribers,
  startDueCampaign,
  statusCounts,
  type WorkerProcess,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;
const SUBSCRIBERS = 300;
const RATE = '50';

h.useCrashHarness();

function worker(extra: readonly string[] = []): Promise<WorkerProcess> {
  return h.spawnCrashWorker({ WHATSAPP_RATE: RATE, EMAIL_RATE: RATE }, extra);
}

const count = async (sql: string) => (await h.services.database.db.one<{ n: number }>(sql))?.n ?? 0;

describe('workers killed with SIGKILL', () => {
  it('lose nothing and send nothing twice', { timeout: 180_000 }, async () => {
    const { database, graph, smtp } = h.services;
    const now = Date.now();
    const subscribers = makeSubscribers(SUBSCRIBERS);
    await seedSubscribers(database.db, subscribers, now - 60 * MINUTE);
    // Both steps (10 and 8 minutes before the deadline) are due now.
    await startDueCampaign(
      database.db,
      'crash',
      [
        { id: 'm10', before: 'PT10M', channels: ['whatsapp', 'email'], template: 'first-notice' },
        { id: 'm8', before: 'PT8M', channels: ['whatsapp', 'email'], template: 'one-week' },
      ],
      now,
    );
    const planned = subscribers.reduce((sum, s) => sum + s.channels.length * 2, 0);

    // 1. Kill during fan-out: tiny pages make it last, and the kill lands between two of them.
    const a = await worker(['--fanout-page-size', '2']);
    await h.tick();
    await waitFor(
      'a fan-out half done',
      async () =>
        (await count(
          `SELECT count(*)::int AS n FROM slots WHERE state = 'fanning_out' AND cursor IS NOT NULL`,
        )) > 0,
      30_000,
      2,
    );
    await a.stop('SIGKILL');
    const unfinished = await count(`SELECT count(*)::int AS n FROM slots WHERE state <> 'done'`);
    expect(unfinished).toBeGreaterThan(0);

    // 2. Another worker takes over; kill it too while it sends.
    const b = await worker();
    await h.tick();
    await waitFor(
      'sending under way',
      async () => {
        const c = await statusCounts(database.db, 'crash');
        return (c.sent ?? 0) > 100 && (c.queued ?? 0) > 100;
      },
      60_000,
      5,
    );
    await b.stop('SIGKILL');
    const atKill = await statusCounts(database.db, 'crash');
    expect(atKill.queued ?? 0).toBeGreaterThan(0);

    // 3. A third worker finishes; ticks settle what the killed ones held.
    await worker();
    await waitFor(
      'every delivery settled',
      async () => {
        await h.tick();
        const left = await count(
          `SELECT count(*)::int AS n FROM deliveries WHERE status IN ('queued', 'retrying', 'sending')`,
        );
        const slotsLeft = await count(`SELECT count(*)::int AS n FROM slots WHERE state <> 'done'`);
        return left === 0 && slotsLeft === 0;
      },
      120_000,
      500,
    );

    const rows = await deliveriesOf(database.db, 'crash');
    expect(rows).toHaveLength(planned); // nothing lost: every planned message has its row
    const counts = await statusCounts(database.db, 'crash');
    expect(Object.keys(counts).filter((s) => s !== 'sent' && s !== 'unknown')).toEqual([]);
    // `unknown` only for what was in a sender's hands at a kill (at most its concurrency).
    expect(counts.unknown ?? 0).toBeLessThanOrEqual(2 * (50 + 10));

    // What the providers received, per (subscriber, step, channel).
    const received = new Map<string, number>();
    const bump = (key: string) => received.set(key, (received.get(key) ?? 0) + 1);
    const stepOf = {
      lastcall_ai_assistants_first_notice: 'm10',
      lastcall_ai_assistants_one_week: 'm8',
    } as const;
    for (const m of graph.sent()) bump(`${m.to}|${stepOf[m.template?.name as keyof typeof stepOf]}|whatsapp`);
    const deliveryById = new Map(rows.map((r) => [r.id, r]));
    for (const m of smtp.messages) {
      const id = Number(/^<delivery-(\d+)\./.exec(m.parsed.messageId ?? '')?.[1]);
      const row = deliveryById.get(id);
      expect(row?.email).toBe(m.envelope.rcptTo[0]);
      bump(`${row?.email}|${row?.step_id}|email`);
    }
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    for (const r of rows) {
      const key = `${r.channel === 'whatsapp' ? digits(r.phone!) : r.email}|${r.step_id}|${r.channel}`;
      if (r.status === 'sent') expect(received.get(key), key).toBe(1);
      else expect(received.get(key) ?? 0).toBeLessThanOrEqual(1);
    }
  });
});
