// Lastcall on a real Redis Cluster of this file's own (3 primaries, 3 replicas):
// - the queues spread: each queue's keys (and the rate gate beside the WhatsApp queue) sit on
//   one primary, and the two channels' queues on different primaries;
// - `lastcall doctor` tells a cluster node from a single Redis;
// - a primary killed mid-step (`kill -9` of the one holding the WhatsApp queue's slot, its
//   replica promoted) loses no reminder and sends none twice: counted at the fake Graph API,
//   the SMTP server and in PostgreSQL.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTick } from '../src/delivery/tick.service.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { hashTagOf, queueKeyPrefix, rateGateKey } from '../src/queue/keys.ts';
import { createLogger } from '../src/shared/logger.ts';
import { runCli } from './support/cli.ts';
import {
  type DeliveryServices,
  deliveriesOf,
  makeSubscribers,
  receivedPerDelivery,
  seedSubscribers,
  spawnWorker,
  startDeliveryServices,
  startDueCampaign,
  statusCounts,
  subscriber,
  type WorkerProcess,
  waitFor,
} from './support/delivery.ts';
import { useRedisCluster } from './support/redis-cluster.ts';

const MINUTE = 60_000;
const held = useRedisCluster();
let services: DeliveryServices;
let queues: QueueSet;
const running: WorkerProcess[] = [];

beforeAll(async () => {
  // The cluster (useRedisCluster's hook, which runs first) is up: these services connect to it.
  services = await startDeliveryServices({ viaProxy: true });
  queues = new QueueSet(services.config());
});

afterAll(async () => {
  await Promise.all(running.map((w) => w.stop('SIGKILL')));
  await queues?.close();
  await services?.close();
});

/** A tick as the workers run it, with a short grace for stragglers: jobs a failover lost are
 *  found and queued again within seconds, not the default minutes. */
const tick = () =>
  runTick(
    {
      db: services.database.db,
      queues,
      logger: createLogger({ logLevel: 'silent' }),
      recovery: { graceMs: 2_000, leaseMs: 60 * MINUTE, orphanAfterMs: 2_000 },
    },
    Date.now(),
  );

/** Every key of this file's prefix, by the port of the primary holding it. */
async function keysByPrimary(prefix: string): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  for (const port of (await held.cluster.topology()).primaries) {
    const node = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: 1 });
    try {
      found.set(port, await node.keys(`${prefix}:*`));
    } finally {
      node.disconnect();
    }
  }
  return found;
}

describe('Lastcall on a Redis Cluster', () => {
  it('spreads the queues over the primaries, each queue and its rate gate on one', async () => {
    const { database } = services;
    const now = Date.now();
    const subscribers = [0, 1, 2, 3].map((i) =>
      subscriber(`p${i}`, 900 + i, i % 2 ? ['whatsapp'] : ['whatsapp', 'email'], { tags: ['spread'] }),
    );
    await seedSubscribers(database.db, subscribers, now - 60 * MINUTE);
    const planned = subscribers.reduce((sum, s) => sum + s.channels.length, 0);
    const worker = await spawnWorker({ ...services.env, WHATSAPP_RATE: '40', EMAIL_RATE: '40' });
    running.push(worker);
    await startDueCampaign(
      database.db,
      'spread',
      [{ id: 'm10', before: 'PT10M', channels: ['whatsapp', 'email'], template: 'first-notice' }],
      now,
      { tags: ['spread'] },
    );
    await tick();
    await waitFor(
      'the campaign sent',
      async () => (await statusCounts(database.db, 'spread')).sent === planned,
      // A fresh worker process's first jobs, on a machine the other test files also load.
      60_000,
    );
    await worker.stop('SIGTERM');

    const byPrimary = await keysByPrimary(services.redis.prefix);
    const homeOf = (tag: string) =>
      [...byPrimary].filter(([, keys]) => keys.some((k) => hashTagOf(k) === tag)).map(([port]) => port);
    // Each queue's keys on exactly one primary: the one its slot names.
    for (const queue of [QUEUES.tick, QUEUES.fanout, QUEUES.whatsapp, QUEUES.email]) {
      const home = homeOf(queue);
      expect(home, queue).toHaveLength(1);
      expect((await held.cluster.primaryOf(`${queueKeyPrefix(services.redis.prefix, queue)}:x`)).port).toBe(
        home[0],
      );
    }
    expect(homeOf(QUEUES.whatsapp)).not.toEqual(homeOf(QUEUES.email));
    // The rate gate's log is beside its queue.
    const whatsappKeys = byPrimary.get(homeOf(QUEUES.whatsapp)[0]!)!;
    expect(whatsappKeys).toContain(`${rateGateKey(services.redis.prefix, 'whatsapp')}:log`);
    expect(whatsappKeys).toContain(
      `${queueKeyPrefix(services.redis.prefix, QUEUES.whatsapp)}:send-whatsapp:meta`,
    );
  });

  it('lastcall doctor says when REDIS_CLUSTER disagrees with the server', async () => {
    const doctor = (cluster: string) =>
      runCli(['doctor', '--only', 'redis'], {
        ...services.env,
        LASTCALL_ENV: 'development',
        LOG_LEVEL: 'silent',
        REDIS_CLUSTER: cluster,
      });
    const unset = await doctor('false');
    expect(unset.code).toBe(1);
    expect(unset.stdout).toMatch(
      /^✗ Redis Cluster\s+REDIS_URL is a Redis Cluster node, but REDIS_CLUSTER is not set/m,
    );
    expect(unset.stdout).toContain('fix: set REDIS_CLUSTER=true');
    const set = await doctor('true');
    expect(set.stdout).toMatch(/^✓ Redis Cluster\s+REDIS_URL is a cluster node, and REDIS_CLUSTER=true/m);
    expect(set.stdout).not.toContain('✗');
  });

  it('a primary killed mid-step (its replica promoted) loses no reminder and sends none twice', {
    timeout: 180_000,
  }, async () => {
    const { database } = services;
    const db = database.db;
    const now = Date.now();
    const subscribers = makeSubscribers(300, undefined, 'f').map((s) => ({ ...s, tags: ['failover'] }));
    await seedSubscribers(db, subscribers, now - 60 * MINUTE);
    const planned = subscribers.reduce((sum, s) => sum + s.channels.length, 0);
    const worker = await spawnWorker({ ...services.env, WHATSAPP_RATE: '40', EMAIL_RATE: '40' });
    running.push(worker);
    await startDueCampaign(
      db,
      'failover',
      [{ id: 'm10', before: 'PT10M', channels: ['whatsapp', 'email'], template: 'first-notice' }],
      now,
      { tags: ['failover'] },
    );
    await tick();
    await waitFor(
      'sending under way',
      async () => {
        const c = await statusCounts(db, 'failover');
        return (c.sent ?? 0) > 40 && (c.queued ?? 0) > 80;
      },
      60_000,
      1000,
    );

    // kill -9 of the primary holding the WhatsApp queue (and its rate gate), mid-step.
    const whatsappKey = `${queueKeyPrefix(services.redis.prefix, QUEUES.whatsapp)}:send-whatsapp:meta`;
    const waiting = await db.query<{ id: number }>(
      `SELECT id FROM deliveries WHERE campaign_id = 'failover' AND status IN ('queued', 'retrying')`,
    );
    const { killed, promoted } = await held.cluster.killPrimaryOf(whatsappKey);
    console.log(
      `killed primary ${killed} mid-step (${waiting.length} deliveries waiting); replica ${promoted} promoted`,
    );
    expect(waiting.length).toBeGreaterThan(0);
    expect((await held.cluster.primaryOf(whatsappKey)).port).toBe(promoted);

    // The same worker carries on; ticks queue again what the failover may have lost.
    await waitFor(
      'every delivery settled',
      async () => {
        await tick();
        const row = await db.one<{ n: number }>(
          `SELECT count(*)::int AS n FROM deliveries
            WHERE campaign_id = 'failover' AND status IN ('queued', 'retrying', 'sending')`,
        );
        return row?.n === 0;
      },
      120_000,
      500,
    );
    expect(worker.running()).toBe(true);

    const rows = await deliveriesOf(db, 'failover');
    expect(rows).toHaveLength(planned);
    // At the providers: every delivery arrived exactly once…
    const received = receivedPerDelivery(services);
    const ids = new Set(rows.map((r) => r.id));
    const arrived = [...received].filter(([id]) => ids.has(id));
    expect(arrived.filter(([, n]) => n !== 1)).toEqual([]);
    expect(arrived).toHaveLength(planned);
    // …and PostgreSQL records each as sent, with one sent attempt (or `unknown`, which only a
    // call whose answer was lost can leave: it arrived, as counted above).
    const counts = await statusCounts(db, 'failover');
    console.log(`after the failover: ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).filter((s) => s !== 'sent' && s !== 'unknown')).toEqual([]);
    const attempts = await db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE d.campaign_id = 'failover' AND a.outcome = 'sent'`,
    );
    expect(attempts?.n).toBe(counts.sent);
    // What was waiting when the primary died went out, each once.
    const waitingIds = new Set(waiting.map((w) => w.id));
    expect(rows.filter((r) => waitingIds.has(r.id) && r.status !== 'sent')).toEqual([]);
  });
});
