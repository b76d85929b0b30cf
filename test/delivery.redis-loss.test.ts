// Redis loses everything mid-campaign (FLUSHALL on a Redis of this file's own; where no private
// Redis can be started, every key of our prefix on the shared one) while a worker process
// sends; the worker dies, another starts. PostgreSQL is the record: the next tick finds Redis empty, queues again
// what was waiting, and every remaining reminder goes out exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTick } from '../src/delivery/tick.service.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { createLogger } from '../src/shared/logger.ts';
import {
  type DeliveryServices,
  deliveriesOf,
  digits,
  makeSubscribers,
  seedSubscribers,
  spawnWorker,
  startCampaign,
  startDeliveryServices,
  statusCounts,
  type WorkerProcess,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;

let services: DeliveryServices;
let queues: QueueSet;
const running: WorkerProcess[] = [];

beforeAll(async () => {
  services = await startDeliveryServices({ viaProxy: true, privateRedis: true });
  queues = new QueueSet(services.config());
});

afterAll(async () => {
  await Promise.all(running.map((w) => w.stop('SIGKILL')));
  await queues?.close();
  await services?.close();
});

/** A tick at `Date.now() + aheadMs` (to reach a slot that is not due yet without waiting). */
const tick = (aheadMs = 0) =>
  runTick(
    {
      db: services.database.db,
      queues,
      logger: createLogger({ logLevel: 'silent' }),
      recovery: { graceMs: 2_000, leaseMs: 60 * MINUTE },
    },
    Date.now() + aheadMs,
  );

async function worker(): Promise<WorkerProcess> {
  const w = await spawnWorker({ ...services.env, WHATSAPP_RATE: '40', EMAIL_RATE: '40' });
  running.push(w);
  return w;
}

describe('a complete loss of Redis data mid-campaign', () => {
  it('loses no reminder and sends none twice', { timeout: 180_000 }, async () => {
    const { database, graph, smtp, redis } = services;
    const db = database.db;
    const now = Date.now();
    const deadline = now + 5 * MINUTE;
    const subscribers = makeSubscribers(240);
    await seedSubscribers(db, subscribers, now - 60 * MINUTE);
    await startCampaign(
      db,
      {
        id: 'loss',
        deadline,
        steps: [
          // Due now (the campaign started 6 minutes "ago")…
          { id: 'm10', before: 'PT10M', channels: ['whatsapp', 'email'], template: 'first-notice' },
          // …and in two minutes: still only a slot in PostgreSQL when Redis is lost.
          { id: 'm3', before: 'PT3M', channels: ['whatsapp', 'email'], template: 'one-week' },
        ],
      },
      deadline - 11 * MINUTE,
    );
    const planned = subscribers.reduce((sum, s) => sum + s.channels.length * 2, 0);

    const a = await worker();
    await tick();
    await waitFor('sending under way', async () => {
      const c = await statusCounts(db, 'loss');
      return (c.sent ?? 0) > 30 && (c.queued ?? 0) > 60;
    });

    // Redis loses everything; the worker dies with it.
    const lost = await redis.loseEverything();
    console.log(`Redis lost ${lost} keys (${redis.loss}) mid-campaign`);
    expect(lost).toBeGreaterThan(0);
    await a.stop('SIGKILL');
    const waiting = await db.query<{ id: number }>(
      `SELECT id FROM deliveries WHERE campaign_id = 'loss' AND status IN ('queued', 'retrying')`,
    );
    expect(waiting.length).toBeGreaterThan(0);
    const pendingSlots = await db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM slots WHERE state = 'pending'`,
    );
    expect(pendingSlots?.n).toBeGreaterThan(0);

    const b = await worker();
    // This tick, or the new worker's own first one, finds Redis empty and queues everything again.
    const report = await tick();
    if (!(report.ran && report.redisLost))
      await waitFor("the worker's tick to notice the loss", () =>
        b.output().includes('Redis held none of our jobs'),
      );
    await waitFor(
      'the first step settled',
      async () => {
        await tick();
        const row = await db.one<{ n: number }>(
          `SELECT count(*)::int AS n FROM deliveries WHERE status IN ('queued', 'retrying', 'sending')`,
        );
        return row?.n === 0;
      },
      90_000,
      500,
    );
    // Two minutes later, the second step comes due.
    await waitFor(
      'the second step settled',
      async () => {
        await tick(3 * MINUTE);
        const left = await db.one<{ n: number }>(
          `SELECT (SELECT count(*) FROM deliveries WHERE status IN ('queued', 'retrying', 'sending'))
                + (SELECT count(*) FROM slots WHERE state <> 'done') AS n`,
        );
        return Number(left?.n) === 0;
      },
      90_000,
      500,
    );

    const rows = await deliveriesOf(db, 'loss');
    expect(rows).toHaveLength(planned);
    const counts = await statusCounts(db, 'loss');
    expect(Object.keys(counts).filter((s) => s !== 'sent' && s !== 'unknown')).toEqual([]);

    const received = new Map<string, number>();
    const bump = (key: string) => received.set(key, (received.get(key) ?? 0) + 1);
    const stepOf = {
      lastcall_ai_assistants_first_notice: 'm10',
      lastcall_ai_assistants_one_week: 'm3',
    } as const;
    for (const m of graph.sent()) bump(`${m.to}|${stepOf[m.template?.name as keyof typeof stepOf]}|whatsapp`);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const m of smtp.messages) {
      const row = byId.get(Number(/^<delivery-(\d+)\./.exec(m.parsed.messageId ?? '')?.[1]));
      bump(`${row?.email}|${row?.step_id}|email`);
    }
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    const waitingIds = new Set(waiting.map((w) => w.id));
    for (const r of rows) {
      const key = `${r.channel === 'whatsapp' ? digits(r.phone!) : r.email}|${r.step_id}|${r.channel}`;
      // What was waiting at the loss, and the whole second step, went out exactly once.
      if (waitingIds.has(r.id) || r.step_id === 'm3') expect(r.status, key).toBe('sent');
      if (r.status === 'sent') expect(received.get(key), key).toBe(1);
      else expect(received.get(key) ?? 0).toBeLessThanOrEqual(1);
    }
  });
});
